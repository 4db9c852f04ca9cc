#!/bin/sh
# An old-style custom module: its arguments come as a key=value file ($1) that the shell
# can read. It changes nothing and returns a fact.
. "$1"
printf '{"changed": false, "ansible_facts": {"old_style_greeting": "hello %s"}, "checked": "%s"}\n' "$who" "$_ansible_check_mode"
