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
	cfg, err := ansiblecfg.Load(ansiblecfg.Env{})
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
	}
	o.cfg = cfg
	unset := func(name string) bool { f := flags.Lookup(name); return f != nil && !f.Changed }
	if unset("inventory") && len(cfg.Inventory) > 0 {
		o.sources = cfg.Inventory
	}
	if unset("forks") && cfg.Forks > 0 {
		o.forks = cfg.Forks
	}
	if unset("user") && cfg.RemoteUser != "" {
		o.user = cfg.RemoteUser
	}
	if unset("private-key") && cfg.PrivateKeyFile != "" {
		o.privateKey = cfg.PrivateKeyFile
	}
	if unset("become") && cfg.Become != nil {
		o.become = *cfg.Become
	}
	if unset("become-method") && cfg.BecomeMethod != "" {
		o.becomeMethod = cfg.BecomeMethod
	}
	if unset("become-user") && cfg.BecomeUser != "" && o.become {
		o.becomeUser = cfg.BecomeUser
	}
	if unset("ask-pass") && cfg.AskPass {
		o.askPass = true
	}
	if unset("ask-become-pass") && cfg.BecomeAskPass {
		o.askBecomePass = true
	}
	return nil
}

// configHostVars adds ansible.cfg's connection settings to hv: ssh_args first on every
// connection, the others as defaults for the connection variables a host does not set.
func configHostVars(o runOptions, hv *transport.HostVarsOptions) {
	defaults := map[string]any{}
	if o.privateKey != "" {
		defaults["ansible_ssh_private_key_file"] = o.privateKey
	}
	if c := o.cfg; c != nil {
		if c.SSHArgs != "" {
			hv.FirstSSHArgs = append(hv.FirstSSHArgs, c.SSHArgs)
		}
		if c.HostKeyChecking != nil {
			defaults["ansible_host_key_checking"] = *c.HostKeyChecking
		}
		if c.Timeout > 0 {
			defaults["ansible_ssh_timeout"] = c.Timeout
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
