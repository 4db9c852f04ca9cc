package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/internal/simfleet"
)

// shardedFleet is a fleet served by child processes, and the inventory and known_hosts
// that describe all of it.
type shardedFleet struct {
	children  []*exec.Cmd
	stdins    []io.Closer
	inventory string
}

// startShards starts ceil(hosts/shard) child processes, each serving its slice of the
// fleet's host names, and writes one inventory for the whole fleet.
func startShards(dir string, hosts, shard int, sshArgs string) (*shardedFleet, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	key, err := simfleet.GenerateClientKey(dir)
	if err != nil {
		return nil, err
	}
	sf := &shardedFleet{}
	type shardOut struct {
		lines      []string // "name port"
		knownHosts string
		err        error
	}
	var outs []chan shardOut
	for first := 0; first < hosts; first += shard {
		count := min(shard, hosts-first)
		sdir := filepath.Join(dir, fmt.Sprintf("shard%d", len(sf.children)))
		cmd := exec.Command(self, "-serve-shard", fmt.Sprintf("%d:%d", first, count), "-hosts", fmt.Sprint(hosts),
			"-client-key", key, "-dir", sdir)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			sf.close()
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			sf.close()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			sf.close()
			return nil, err
		}
		sf.children = append(sf.children, cmd)
		sf.stdins = append(sf.stdins, stdin)
		ch := make(chan shardOut, 1)
		outs = append(outs, ch)
		go func() {
			var o shardOut
			s := bufio.NewScanner(stdout)
			for s.Scan() {
				line := s.Text()
				if kh, ok := strings.CutPrefix(line, "ready "); ok {
					o.knownHosts = kh
					ch <- o
					io.Copy(io.Discard, stdout)
					return
				}
				o.lines = append(o.lines, line)
			}
			o.err = errors.New("a fleet shard ended before it was ready")
			ch <- o
		}()
	}
	var inv, known strings.Builder
	fmt.Fprintf(&inv, "# kpx fleetbench: %d simulated hosts in %d processes\n\n[fleet]\n", hosts, len(outs))
	for _, ch := range outs {
		o := <-ch
		if o.err != nil {
			sf.close()
			return nil, o.err
		}
		for _, l := range o.lines {
			name, port, _ := strings.Cut(l, " ")
			fmt.Fprintf(&inv, "%s ansible_host=127.0.0.1 ansible_port=%s\n", name, port)
		}
		b, err := os.ReadFile(o.knownHosts)
		if err != nil {
			sf.close()
			return nil, err
		}
		known.Write(b)
	}
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(known.String()), 0o600); err != nil {
		sf.close()
		return nil, err
	}
	args := fmt.Sprintf("-F none -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes", kh)
	if sshArgs != "" {
		args += " " + sshArgs
	}
	fmt.Fprintf(&inv, "\n[all:vars]\nansible_ssh_private_key_file=%s\nansible_ssh_common_args='%s'\n", key, args)
	sf.inventory = filepath.Join(dir, "inventory.ini")
	if err := os.WriteFile(sf.inventory, []byte(inv.String()), 0o600); err != nil {
		sf.close()
		return nil, err
	}
	return sf, nil
}

// close ends every shard (closing its stdin) and waits for it.
func (sf *shardedFleet) close() {
	for _, in := range sf.stdins {
		in.Close()
	}
	for _, c := range sf.children {
		c.Wait()
	}
}

// serveShard is a child's side: serve hosts FIRST:COUNT of a fleet of total hosts, print
// "name port" per host and then "ready KNOWN_HOSTS", and serve until stdin closes.
func serveShard(spec string, total int, key, dir string) error {
	a, b, _ := strings.Cut(spec, ":")
	first, err1 := strconv.Atoi(a)
	count, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || first < 0 || count < 1 || first+count > total {
		return fmt.Errorf("-serve-shard %q: want FIRST:COUNT within -hosts %d", spec, total)
	}
	if err := raiseNoFile(); err != nil {
		return err
	}
	names := simfleet.HostNames("host", total)[first : first+count]
	f, err := simfleet.Start(context.Background(), simfleet.Options{Groups: []simfleet.Group{{Name: "fleet", Hosts: names}},
		Dir: dir, ClientKey: key})
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(os.Stdout)
	for _, h := range f.Hosts {
		fmt.Fprintf(w, "%s %d\n", h.Name, h.Port)
	}
	fmt.Fprintf(w, "ready %s\n", f.KnownHosts)
	if err := w.Flush(); err != nil {
		return err
	}
	io.Copy(io.Discard, os.Stdin)
	return nil
}
