package rollout

import (
	"maps"
	"os"
	"path/filepath"
	"time"
)

// renderFile renders a controller template file for the template module with the task's
// variables and the ones Ansible adds for templates (template_path, template_host, ...).
func (e *TaskExecutor) renderFile(src string, vars map[string]any) (string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	v := maps.Clone(vars)
	abs, _ := filepath.Abs(src)
	host, _ := os.Hostname()
	v["template_path"], v["template_fullpath"], v["template_destpath"] = src, abs, src
	v["template_host"], v["template_uid"] = host, os.Getenv("USER")
	if fi, err := os.Stat(src); err == nil {
		v["template_mtime"] = fi.ModTime().Format("2006-01-02 15:04:05")
	}
	v["template_run_date"] = time.Now().Format("2006-01-02 15:04:05.000000")
	if _, ok := v["ansible_managed"]; !ok {
		v["ansible_managed"] = "Ansible managed"
	}
	return e.Templar.RenderText(string(data), v)
}
