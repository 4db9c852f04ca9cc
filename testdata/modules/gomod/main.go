// Command gobin is a custom module written in Go for the conformance tests: Ansible (and
// kpx) run it as a binary module, with its arguments in a JSON file. It makes the file
// dest hold text, and honours check mode.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type args struct {
	Dest      string `json:"dest"`
	Text      string `json:"text"`
	CheckMode bool   `json:"_ansible_check_mode"`
}

func reply(v map[string]any) {
	out, _ := json.Marshal(v)
	fmt.Println(string(out))
}

func main() {
	var a args
	data, err := os.ReadFile(os.Args[1])
	if err == nil {
		err = json.Unmarshal(data, &a)
	}
	if err != nil || a.Dest == "" {
		reply(map[string]any{"failed": true, "msg": fmt.Sprintf("bad arguments: %v", err)})
		os.Exit(1)
	}
	want := a.Text + "\n"
	if cur, err := os.ReadFile(a.Dest); err == nil && string(cur) == want {
		reply(map[string]any{"changed": false, "dest": a.Dest})
		return
	}
	if !a.CheckMode {
		if err := os.WriteFile(a.Dest, []byte(want), 0o644); err != nil {
			reply(map[string]any{"failed": true, "msg": err.Error()})
			os.Exit(1)
		}
	}
	reply(map[string]any{"changed": true, "dest": a.Dest})
}
