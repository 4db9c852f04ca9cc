package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authSet holds the authentication methods for one dial and what went wrong preparing
// them (unreadable or passphrase-protected keys), reported if authentication fails.
type authSet struct {
	methods []ssh.AuthMethod
	notes   []string
	agent   net.Conn
}

func (a *authSet) close() {
	if a.agent != nil {
		a.agent.Close()
	}
}

// newAuthSet prepares public keys (agent first, then key files, like OpenSSH) and the
// password. A passphrase-protected key file is usable only through the agent.
func newAuthSet(cfg *Config) *authSet {
	a := &authSet{}
	var agentSigners []ssh.Signer
	if cfg.AgentSocket != "" {
		conn, err := net.Dial("unix", cfg.AgentSocket)
		if err != nil {
			a.notes = append(a.notes, fmt.Sprintf("ssh-agent at %s: %v", cfg.AgentSocket, err))
		} else {
			a.agent = conn
			agentSigners, err = agent.NewClient(conn).Signers()
			if err != nil {
				a.notes = append(a.notes, fmt.Sprintf("ssh-agent: %v", err))
			}
		}
	}
	fileSigners, filePubs := a.loadKeyFiles(cfg.IdentityFiles, agentSigners)
	var signers []ssh.Signer
	for _, s := range agentSigners {
		if !cfg.IdentitiesOnly || containsKey(filePubs, s.PublicKey()) {
			signers = append(signers, s)
		}
	}
	signers = append(signers, fileSigners...)
	if len(signers) > 0 {
		a.methods = append(a.methods, ssh.PublicKeys(signers...))
	}
	if cfg.Password != "" {
		pw := cfg.Password
		a.methods = append(a.methods, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
				ans := make([]string, len(qs))
				for i := range qs {
					ans[i] = pw
				}
				return ans, nil
			}))
	}
	return a
}

// loadKeyFiles parses the key files. It returns their signers and the public keys of every
// file (including passphrase-protected ones, for IdentitiesOnly).
func (a *authSet) loadKeyFiles(files []string, agentSigners []ssh.Signer) ([]ssh.Signer, []ssh.PublicKey) {
	var signers []ssh.Signer
	var pubs []ssh.PublicKey
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			a.notes = append(a.notes, fmt.Sprintf("key file %s: %v", f, errors.Unwrap(err)))
			continue
		}
		s, err := ssh.ParsePrivateKey(b)
		var pm *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			pub := pm.PublicKey
			if pub == nil {
				pub = publicKeyBeside(f)
			}
			if pub != nil {
				pubs = append(pubs, pub)
			}
			if pub == nil || !containsKey(signerKeys(agentSigners), pub) {
				a.notes = append(a.notes, fmt.Sprintf("key file %s is protected by a passphrase and ssh-agent does not hold it (add it with ssh-add)", f))
			}
		case err != nil:
			a.notes = append(a.notes, fmt.Sprintf("key file %s: %v", f, err))
		default:
			signers = append(signers, s)
			pubs = append(pubs, s.PublicKey())
		}
	}
	return signers, pubs
}

// publicKeyBeside reads f.pub, the public half OpenSSH keeps next to a private key.
func publicKeyBeside(f string) ssh.PublicKey {
	b, err := os.ReadFile(f + ".pub")
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return pub
}

func signerKeys(ss []ssh.Signer) []ssh.PublicKey {
	out := make([]ssh.PublicKey, len(ss))
	for i, s := range ss {
		out[i] = s.PublicKey()
	}
	return out
}

func containsKey(keys []ssh.PublicKey, k ssh.PublicKey) bool {
	for _, x := range keys {
		if bytes.Equal(x.Marshal(), k.Marshal()) {
			return true
		}
	}
	return false
}

// explain adds the preparation notes to an authentication failure.
func (a *authSet) explain(err error) error {
	if len(a.notes) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(a.notes, "; "))
}
