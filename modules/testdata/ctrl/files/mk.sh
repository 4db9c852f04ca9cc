#!/bin/sh
# Creates the file named by $1; used by the script module tests.
echo "making $1"
echo "made by script" > "$1"
