// Package e2e holds kpx's end-to-end tests on real Linux kernels: qemu VMs booted by
// internal/vmfleet, driven through the real kpx binary over SSH. They need the e2e build
// tag and the packages scripts/e2e-deps installs; run them with `make e2e`.
package e2e
