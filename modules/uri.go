package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kpxdev/kpx/transport"
)

func uriSpec() Spec {
	return Spec{Args: map[string]Arg{
		"url": {Type: Str, Required: true}, "method": {Type: Str}, "body": {Type: Any},
		"body_format": {Type: Str, Choices: []string{"form-urlencoded", "json", "raw", "form-multipart"}},
		"headers":     {Type: Dict}, "status_code": {Type: List}, "return_content": {Type: Bool},
		"force_basic_auth": {Type: Bool}, "url_username": {Type: Str, Aliases: []string{"user"}},
		"url_password": {Type: Str, Aliases: []string{"password"}}, "validate_certs": {Type: Bool},
		"timeout": {Type: Int}, "follow_redirects": {Type: Str}, "dest": {Type: Path},
		"creates": {Type: Path}, "removes": {Type: Path}, "http_agent": {Type: Str},
		"use_proxy": {Type: Bool}, "force": {Type: Bool}, "unix_socket": {Type: Path},
		"ca_path": {Type: Path}, "client_cert": {Type: Path}, "client_key": {Type: Path},
	}}
}

// uriShell runs one HTTP request on the host with curl, else wget. Its standard input
// is "LEN\n" + curl config (LEN bytes) + request body: secrets (passwords, headers)
// travel there, never on a command line.
const uriShell = `d=$(umask 77; mktemp -d "${TMPDIR:-/tmp}/kpx-XXXXXXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
IFS= read -r n; cat > "$d/in"; head -c "$n" "$d/in" > "$d/cfg"; tail -c +$((n + 1)) "$d/in" > "$d/body.in"
case "$KPX_URI_DEST" in /*|'') ;; *) KPX_URI_DEST="$PWD/$KPX_URI_DEST" ;; esac
cd "$d" || exit 1
if command -v curl >/dev/null 2>&1; then
	curl -K "$d/cfg" -sS -o "$d/body" -D "$d/head" -w 'code=%{http_code}\nurl=%{url_effective}\nredirects=%{num_redirects}\n' 2>"$d/err"
	echo "rc=$?"
elif command -v wget >/dev/null 2>&1; then
	[ "$KPX_URI_WGET" = ok ] || { echo "$KPX_URI_WGET" >&2; exit 4; }
	set -- -S -O "$d/body" -T "$KPX_URI_TIMEOUT"
	[ -s "$d/body.in" ] && set -- "$@" --post-file "$d/body.in"
	wget "$@" $KPX_URI_WGET_ARGS -- "$KPX_URI_URL" 2>"$d/head"
	echo "rc=$?"; echo "code=$(grep -E '^ *HTTP/' "$d/head" | tail -n 1 | awk '{print $2}')"; echo "url=$KPX_URI_URL"
	cp "$d/head" "$d/err"
else
	echo "uri: neither curl nor wget is installed on the host" >&2; exit 127
fi
[ -n "$KPX_URI_DEST" ] && [ -f "$d/body" ] && { cp -- "$d/body" "$KPX_URI_DEST" || exit 5; }
echo "--KPX-ERR--"; cat "$d/err"
echo "--KPX-HEAD--"; cat "$d/head" 2>/dev/null
echo "--KPX-BODY--"; cat "$d/body" 2>/dev/null
`

// runURI makes an HTTP request from the host (curl, else wget), as Ansible's uri does.
func runURI(ctx context.Context, h Host, c Call) (Result, error) {
	a := c.Args
	u := str(a["url"])
	r := Result{"changed": false, "url": u, "status": -1}
	if done, err := creationGuard(ctx, h, c, r); done || err != nil {
		delete(r, "stdout")
		delete(r, "rc")
		return r, err
	}
	method := strings.ToUpper(str(a["method"]))
	if method == "" {
		method = "GET"
	}
	body, ctype, err := uriBody(a)
	if err != nil {
		return bad("%v", err)
	}
	timeout := intArg(a, "timeout", 30)
	cfg := curlConfig(a, u, method, ctype, body != "", timeout)
	env := map[string]string{"KPX_URI_URL": u, "KPX_URI_TIMEOUT": strconv.Itoa(timeout), "KPX_URI_WGET": "ok", "KPX_URI_DEST": str(a["dest"])}
	switch {
	case a["url_password"] != nil || hasAuthHeader(a):
		env["KPX_URI_WGET"] = "uri: credentials need curl on the host (wget would take them on its command line)"
	case method != "GET" && method != "POST":
		env["KPX_URI_WGET"] = "uri: method " + method + " needs curl on the host (wget does GET and POST only)"
	}
	var wargs []string
	for _, k := range sortedAnyKeys(headersOf(a)) {
		wargs = append(wargs, "--header="+transport.Quote(k+": "+str(headersOf(a)[k])))
	}
	if !boolArg(a, "validate_certs", true) {
		wargs = append(wargs, "--no-check-certificate")
	}
	env["KPX_URI_WGET_ARGS"] = strings.Join(wargs, " ")
	if c.Check && a["dest"] != nil {
		return Result{"changed": false, "skipped": true, "msg": "uri with dest does not run in check mode"}, nil
	}
	stdin := strconv.Itoa(len(cfg)) + "\n" + cfg + body
	start := time.Now()
	res, err := run(ctx, h, c, transport.Cmd{Shell: uriShell, Env: env, Stdin: strings.NewReader(stdin)})
	if err != nil {
		return failure(r, err)
	}
	r["elapsed"] = int(time.Since(start).Seconds())
	if res.ExitStatus != 0 {
		r["failed"], r["msg"] = true, strings.TrimSpace(string(res.Stderr))
		return r, nil
	}
	return uriResult(r, a, string(res.Stdout))
}

func headersOf(a map[string]any) map[string]any {
	h, _ := a["headers"].(map[string]any)
	return h
}

func hasAuthHeader(a map[string]any) bool {
	for k := range headersOf(a) {
		if strings.EqualFold(k, "authorization") {
			return true
		}
	}
	return false
}

// uriBody encodes the request body as body_format says.
func uriBody(a map[string]any) (string, string, error) {
	b, ok := a["body"]
	if !ok || b == nil {
		return "", "", nil
	}
	switch str(a["body_format"]) {
	case "json":
		if s, ok := b.(string); ok {
			return s, "application/json", nil
		}
		data, err := json.Marshal(b)
		return string(data), "application/json", err
	case "form-urlencoded":
		m, ok := b.(map[string]any)
		if !ok {
			return str(b), "application/x-www-form-urlencoded", nil
		}
		v := url.Values{}
		for k, x := range m {
			v.Set(k, str(x))
		}
		return v.Encode(), "application/x-www-form-urlencoded", nil
	case "form-multipart":
		return "", "", fmt.Errorf("body_format form-multipart is not supported by kpx")
	}
	return str(b), "", nil
}

// curlConfig writes the request as a curl config file (read with -K).
func curlConfig(a map[string]any, u, method, ctype string, hasBody bool, timeout int) string {
	var b strings.Builder
	opt := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, curlQuote(v)) }
	opt("url", u)
	opt("request", method)
	opt("max-time", strconv.Itoa(timeout))
	headers := headersOf(a)
	if ctype != "" && !hasHeader(headers, "content-type") {
		opt("header", "Content-Type: "+ctype)
	}
	for _, k := range sortedAnyKeys(headers) {
		opt("header", k+": "+str(headers[k]))
	}
	if hasBody {
		b.WriteString("data-binary = \"@" + "body.in\"\n")
	}
	if user := str(a["url_username"]); user != "" {
		opt("user", user+":"+str(a["url_password"]))
		if !boolArg(a, "force_basic_auth", false) {
			b.WriteString("anyauth\n")
		}
	}
	if !boolArg(a, "validate_certs", true) {
		b.WriteString("insecure\n")
	}
	if fr := str(a["follow_redirects"]); fr != "none" && fr != "no" && fr != "false" {
		b.WriteString("location\n")
	}
	if agent := str(a["http_agent"]); agent != "" {
		opt("user-agent", agent)
	} else {
		opt("user-agent", "ansible-httpget")
	}
	return b.String()
}

func hasHeader(h map[string]any, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func curlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

func sortedAnyKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
