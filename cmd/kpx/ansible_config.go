package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/kpxdev/kpx/internal/ansiblecfg"
	"github.com/kpxdev/kpx/transport"
)

// applyAnsibleConfig reads Ansible's configuration (ansible.cfg and ANSIBLE_* variables,
// see internal/ansiblecfg) into o, for each setting whose flag was not given: a flag beats
// the environment, which beats ansible.cfg, which beats kpx's (Ansible's) default.
func applyAnsibleConfig(o *runOptions, flags *pflag.FlagSet, stderr io.Writer) error {
	cfg, err := loadAnsibleConfig(stderr)
	if err != nil {
		return err
	}
	o.cfg = cfg
	cfgTargets{sources: &o.sources, forks: &o.forks, user: &o.user, privateKey: &o.privateKey,
		become: &o.become, becomeMethod: &o.becomeMethod, becomeUser: &o.becomeUser,
		askPass: &o.askPass, askBecomePass: &o.askBecomePass}.apply(cfg, flags)
	return nil
}

// loadAnsibleConfig finds and reads Ansible's configuration as ansible-core does, from the
// working directory (for kpx resume and kpx rollback too, whatever directory the run was
// started in), and prints its warnings.
func loadAnsibleConfig(stderr io.Writer) (*ansiblecfg.Config, error) {
	cfg, err := ansiblecfg.Load(ansiblecfg.Env{})
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
	}
	return cfg, nil
}

// cfgTargets are a command's options that Ansible's configuration can set, each by the
// name of its flag; nil for those the command does not have. Each is set from the
// configuration unless its flag was given on the command line.
type cfgTargets struct {
	sources                *[]string // -i
	forks                  *int      // -f
	user                   *string   // -u
	privateKey             *string   // --private-key
	timeout                *int      // -T (kpx exec)
	become                 *bool     // -b
	becomeMethod           *string   // --become-method
	becomeUser             *string   // --become-user
	askPass, askBecomePass *bool     // -k, -K
}

func (t cfgTargets) apply(cfg *ansiblecfg.Config, flags *pflag.FlagSet) {
	unset := func(name string, target bool) bool {
		f := flags.Lookup(name)
		return target && f != nil && !f.Changed
	}
	if unset("inventory", t.sources != nil) && len(cfg.Inventory) > 0 {
		*t.sources = cfg.Inventory
	}
	if unset("forks", t.forks != nil) && cfg.Forks > 0 {
		*t.forks = cfg.Forks
	}
	if unset("user", t.user != nil) && cfg.RemoteUser != "" {
		*t.user = cfg.RemoteUser
	}
	if unset("private-key", t.privateKey != nil) && cfg.PrivateKeyFile != "" {
		*t.privateKey = cfg.PrivateKeyFile
	}
	if unset("timeout", t.timeout != nil) && cfg.Timeout > 0 {
		*t.timeout = cfg.Timeout
	}
	if unset("become", t.become != nil) && cfg.Become != nil {
		*t.become = *cfg.Become
	}
	if unset("become-method", t.becomeMethod != nil) && cfg.BecomeMethod != "" {
		*t.becomeMethod = cfg.BecomeMethod
	}
	// --become-user turns become on in kpx; ansible.cfg's become_user does not (it reaches
	// tasks that become through becomeDefaults).
	if unset("become-user", t.becomeUser != nil) && cfg.BecomeUser != "" && t.become != nil && *t.become {
		*t.becomeUser = cfg.BecomeUser
	}
	if unset("ask-pass", t.askPass != nil) && cfg.AskPass {
		*t.askPass = true
	}
	if unset("ask-become-pass", t.askBecomePass != nil) && cfg.BecomeAskPass {
		*t.askBecomePass = true
	}
}

// becomeDefaults are the become method and user of the command line and Ansible's
// configuration (--become-method, --become-user, ANSIBLE_BECOME_METHOD/_USER,
// [privilege_escalation] become_method/become_user), with the -K password: they apply to
// every task that becomes, whatever turned become on (-b, ansible.cfg's become, a play's or
// task's become: true, ansible_become), when neither its ansible_become_* variables nor its
// become_user/become_method keywords say otherwise.
func becomeDefaults(o runOptions, password string) transport.Become {
	b := transport.Become{Method: o.becomeMethod, User: o.becomeUser, Password: password}
	if b.User == "" && o.cfg != nil {
		b.User = o.cfg.BecomeUser // not in o.becomeUser unless become is on: that turns it on
	}
	return b
}

// configHostVars adds ansible.cfg's connection settings to hv: ssh_args first on every
// connection, the others as defaults for the connection variables a host does not set.
func configHostVars(o runOptions, hv *transport.HostVarsOptions) {
	var timeout int
	if o.cfg != nil {
		timeout = o.cfg.Timeout
	}
	configSSH(o.cfg, o.privateKey, timeout, hv)
}

// configSSH adds cfg's SSH settings to hv (cfg may be nil): ssh_args first on every
// connection; the private key, the connect timeout (when > 0), host_key_checking,
// ssh_common_args and ssh_extra_args as defaults for the hosts whose variables set none.
func configSSH(cfg *ansiblecfg.Config, privateKey string, timeout int, hv *transport.HostVarsOptions) {
	defaults := map[string]any{}
	if privateKey != "" {
		defaults["ansible_ssh_private_key_file"] = privateKey
	}
	if timeout > 0 {
		defaults["ansible_ssh_timeout"] = timeout
	}
	if c := cfg; c != nil {
		if c.SSHArgs != "" {
			hv.FirstSSHArgs = append(hv.FirstSSHArgs, c.SSHArgs)
		}
		if c.HostKeyChecking != nil {
			defaults["ansible_host_key_checking"] = *c.HostKeyChecking
		}
		if c.SSHCommonArgs != "" {
			defaults["ansible_ssh_common_args"] = c.SSHCommonArgs
		}
		if c.SSHExtraArgs != "" {
			defaults["ansible_ssh_extra_args"] = c.SSHExtraArgs
		}
	}
	if len(defaults) > 0 {
		hv.DefaultVars = defaults
	}
}

// configLibrary is the library directories of Ansible's configuration (ANSIBLE_LIBRARY,
// else ansible.cfg's library).
func configLibrary(o runOptions) []string {
	if o.cfg == nil {
		return nil
	}
	return o.cfg.Library
}

// configRolesPath is the roles_path of Ansible's configuration (ANSIBLE_ROLES_PATH, else
// ansible.cfg's roles_path), else Ansible's default.
func configRolesPath(o runOptions) []string {
	if o.cfg != nil && len(o.cfg.RolesPath) > 0 {
		return o.cfg.RolesPath
	}
	return nil
}

// configGathering is Ansible's gathering setting (ANSIBLE_GATHERING, ansible.cfg), "" for
// the default (implicit).
func configGathering(o runOptions) string {
	if o.cfg == nil {
		return ""
	}
	return o.cfg.Gathering
}
