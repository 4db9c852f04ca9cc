// Package playbooks is kpx's model of Ansible playbooks: YAML turned into plays, blocks and
// tasks that remember the file, line and column they came from, validated as a whole before
// any host is touched, plus the pieces of Ansible's meaning that belong to the playbook
// rather than to execution, such as how `serial` cuts a play's hosts into batches.
package playbooks
