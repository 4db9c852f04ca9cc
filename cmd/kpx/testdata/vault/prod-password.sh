#!/bin/sh
# a vault password script: its standard output is the password
echo "kpx-prod-vault-password"
