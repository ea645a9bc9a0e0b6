package main

import (
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpListsEveryCommand: shardlog, shardlog --help and shardlog help
// list every command with its one-line summary, and every command has
// examples.
func TestHelpListsEveryCommand(t *testing.T) {
	root := rootCommand(io.Discard, io.Discard)
	for _, args := range [][]string{nil, {"--help"}, {"help"}, {"-h"}} {
		code, out, errOut := runCmd(args...)
		if code != 0 {
			t.Fatalf("shardlog %q: exit %d\n%s", args, code, errOut)
		}
		for _, c := range root.Commands() {
			if c.Hidden {
				continue
			}
			if !strings.Contains(out, c.Name()) || !strings.Contains(out, c.Short) {
				t.Errorf("shardlog %q does not list %s (%q):\n%s", args, c.Name(), c.Short, out)
			}
		}
	}
	for _, name := range []string{"serve", "bench", "config", "cert", "fsck", "inspect", "health", "version"} {
		if c, _, err := root.Find([]string{name}); err != nil || c.Name() != name {
			t.Errorf("no command %s", name)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Runnable() && sub.Example == "" && sub.Name() != "help" && sub.Parent().Name() != "completion" && sub.Name() != "completion" {
				t.Errorf("%s has no examples", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(root)

	// serve's help lists every setting as a flag, with its variable.
	_, out, _ := runCmd("serve", "--help")
	for _, s := range settings() {
		if !strings.Contains(out, "--"+s.flagName()) || !strings.Contains(out, s.envName()) {
			t.Errorf("serve --help lacks --%s (%s)", s.flagName(), s.envName())
		}
	}
	if code, _, errOut := runCmd("frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCmd("serve", "--no-such-flag"); code != 2 || !strings.Contains(errOut, "no-such-flag") {
		t.Errorf("unknown flag: exit %d %s", code, errOut)
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errOut := runCmd("completion", shell)
		if code != 0 || !strings.Contains(out, "shardlog") {
			t.Errorf("completion %s: exit %d %s", shell, code, errOut)
		}
	}
}

// TestVersionCommit builds the binary as make build does and checks that
// shardlog version prints the version, the commit checked out and the Go
// version.
func TestVersionCommit(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	described, err := exec.Command("git", "describe", "--always", "--dirty", "--abbrev=40", "--match=no-tag").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "shardlog")
	ldflags := "-X main.version=v9.9.9-test -X main.commit=" + strings.TrimSpace(string(described))
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-ldflags", ldflags, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) < 3 || lines[0] != "shardlog v9.9.9-test" ||
		!strings.HasPrefix(lines[1], "commit: "+strings.TrimSpace(string(head))) || !strings.HasPrefix(lines[2], "go:     go1.") {
		t.Fatalf("shardlog version:\n%s", out)
	}
	if again, _ := exec.Command(bin, "--version").Output(); string(again) != string(out) {
		t.Fatalf("--version:\n%s", again)
	}
}
