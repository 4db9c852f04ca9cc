package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

// Livepatch is the livepatch module: a kernel live patch loaded, enabled, disabled or
// removed through the kernel's own livepatch sysfs interface, with no vendor tool. See
// docs/LIVEPATCH.md for its safety rules.
var Livepatch Module = Func(runLivepatch)

// livepatchArgs are the module's arguments, read from a call.
type livepatchArgs struct {
	src     string
	name    string
	state   string
	timeout int
	install bool
	force   bool
}

var moduleNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,55}$`)

// livepatchSpec is the module's argument spec; checkLivepatchArgs adds what a spec cannot
// say.
func livepatchSpec() Spec {
	return Spec{Args: map[string]Arg{
		"src":     {Type: Path},
		"name":    {Type: Str},
		"state":   {Type: Str, Choices: []string{"enabled", "disabled", "absent"}},
		"timeout": {Type: Int},
		"install": {Type: Bool},
		"force":   {Type: Bool},
	}, RequiredOneOf: [][]string{{"src", "name"}}, Validate: checkLivepatchArgs}
}

func checkLivepatchArgs(args map[string]any) error {
	if v, ok := args["name"].(string); ok && !isTemplate(v) && !moduleNameRE.MatchString(v) {
		return fmt.Errorf("name %q is not a kernel module name (letters, digits, _ and -)", v)
	}
	if v, ok := args["timeout"]; ok && !isTemplateValue(v) {
		if n, _ := strconv.Atoi(strings.TrimSpace(str(v))); n <= 0 {
			return fmt.Errorf("timeout must be a positive number of seconds, got %v", v)
		}
	}
	state := str(args["state"])
	if (state == "" || state == "enabled") && args["src"] == nil {
		return fmt.Errorf("state=enabled needs src (the live patch .ko to load)")
	}
	return nil
}

func isTemplateValue(v any) bool { s, ok := v.(string); return ok && isTemplate(s) }

func readLivepatchArgs(c Call) livepatchArgs {
	a := livepatchArgs{src: str(c.Args["src"]), name: strings.ReplaceAll(str(c.Args["name"]), "-", "_"),
		state: str(c.Args["state"]), timeout: atoiOr(str(c.Args["timeout"]), 75)}
	if a.state == "" {
		a.state = "enabled"
	}
	a.install, _ = AnsibleBool(c.Args["install"])
	a.force, _ = AnsibleBool(c.Args["force"])
	return a
}

func runLivepatch(ctx context.Context, h Host, c Call) (Result, error) {
	if err := checkLivepatchArgs(c.Args); err != nil {
		return errorf("%v", err), nil
	}
	a := readLivepatchArgs(c)
	if a.state != "enabled" {
		if a.name == "" {
			ko, err := localLivepatch(c, a.src)
			if err != nil {
				return errorf("%v", err), nil
			}
			a.name = ko.Name
		}
		return removeLivepatch(ctx, h, c, a)
	}
	ko, err := localLivepatch(c, a.src)
	if err != nil {
		return errorf("%v", err), nil
	}
	if a.name == "" {
		a.name = ko.Name
	}
	if a.name != ko.Name {
		return errorf("name %s does not match the module's own name %s (from %s)", a.name, ko.Name, a.src), nil
	}
	return enableLivepatch(ctx, h, c, a, ko)
}

// localLivepatch reads the controller's .ko and refuses anything but a live patch.
func localLivepatch(c Call, src string) (*KernelModule, error) {
	p, err := c.LocalPath("files", src)
	if err != nil {
		return nil, err
	}
	ko, err := ReadKernelModule(p)
	if err != nil {
		return nil, err
	}
	if !ko.Livepatch {
		return nil, fmt.Errorf("%s is not a kernel live patch (no livepatch=Y in .modinfo)", src)
	}
	if !moduleNameRE.MatchString(ko.Name) {
		return nil, fmt.Errorf("%s: module name %q is not a kernel module name", src, ko.Name)
	}
	return ko, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// patchState is one line of the probe's patch list.
type patchState struct {
	name                string
	enabled, transition bool
}

func probePatches(raw rawFacts) []patchState {
	var out []patchState
	for _, l := range raw["patch"] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		out = append(out, patchState{name: f[0], enabled: len(f) > 1 && f[1] == "1", transition: len(f) > 2 && f[2] == "1"})
	}
	return out
}

func probeLivepatch(ctx context.Context, h Host, c Call, name string) (rawFacts, *Result, error) {
	o, err := runKernel(ctx, h, c, map[string]string{"name": name}, livepatchProbe)
	if err != nil {
		return nil, nil, err
	}
	if o.status != 0 {
		r := kernelFailure("reading the kernel's live patch state failed", o)
		return nil, &r, nil
	}
	return o.raw, nil, nil
}

func findPatch(ps []patchState, name string) *patchState {
	for i := range ps {
		if ps[i].name == name {
			return &ps[i]
		}
	}
	return nil
}

// uploadPrivately sends the module to a fresh 0700 directory of the login user and
// returns the directory and the file's path.
func uploadPrivately(ctx context.Context, h Host, c Call, local, name string) (string, string, *Result, error) {
	login := c
	login.Become = &transport.Become{}
	res, err := run(ctx, h, login, transport.Cmd{Shell: livepatchUploadDir})
	if err != nil {
		return "", "", nil, err
	}
	dir := strings.TrimSpace(string(res.Stdout))
	if res.ExitStatus != 0 || !path.IsAbs(dir) {
		r := errorf("creating a private remote directory failed: %s", strings.TrimSpace(string(res.Stderr)))
		return "", "", &r, nil
	}
	remote := path.Join(dir, name+".ko")
	if err := h.Upload(ctx, transport.UploadSpec{Local: local, Remote: remote, Mode: 0o600}); err != nil {
		if isUnreachable(err) || ctx.Err() != nil {
			return "", "", nil, err
		}
		_, _ = run(ctx, h, login, transport.Cmd{Argv: []string{"rm", "-rf", "--", dir}})
		r := errorf("uploading %s failed: %v", path.Base(local), err)
		return "", "", &r, nil
	}
	return dir, remote, nil, nil
}
