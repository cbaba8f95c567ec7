package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the integrity check opens the database itself
)

// daemon is the real micropubd binary serving a data folder, which tests kill, stop and start
// again on the same address.
type daemon struct {
	t    *testing.T
	bin  string
	data string
	addr string
	base string
	args []string
	cmd  *exec.Cmd
	done chan error
	logs *lockedBuffer
}

func newDaemon(t *testing.T, bin, data string, args ...string) *daemon {
	addr := freeAddr(t)
	d := &daemon{t: t, bin: bin, data: data, addr: addr, base: "http://" + addr + "/", args: args, logs: &lockedBuffer{}}
	t.Cleanup(func() {
		if d.cmd != nil {
			d.kill()
		}
		if t.Failed() {
			t.Logf("server output:\n%s", tail(d.logs.String(), 6000))
		}
	})
	return d
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// start runs serve and waits until the homepage answers 200.
func (d *daemon) start() {
	d.t.Helper()
	args := append([]string{"serve", "--addr", d.addr, "--data", d.data, "--url", d.base, "--log-level", "warn"}, d.args...)
	d.cmd = exec.Command(d.bin, args...)
	d.cmd.Env = specChildEnv()
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan error) { done <- c.Wait() }(d.cmd, d.done)
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-d.done:
			d.cmd = nil
			d.t.Fatalf("serve exited at start: %v\n%s", err, tail(d.logs.String(), 4000))
		default:
		}
		if resp, err := http.Get(d.base); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("serve did not answer within 15 s\n%s", tail(d.logs.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the server with SIGKILL, as a crash or a power cut would end it.
func (d *daemon) kill() {
	d.cmd.Process.Kill()
	<-d.done
	d.cmd = nil
}

// stop ends the server with SIGTERM and waits for it.
func (d *daemon) stop() {
	d.t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Errorf("serve exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		d.t.Error("serve did not stop within 20 s")
		d.cmd.Process.Kill()
		<-d.done
	}
	d.cmd = nil
}

// run runs another sub-command of the binary and returns its standard output.
func (d *daemon) run(args ...string) string {
	d.t.Helper()
	cmd := exec.Command(d.bin, args...)
	cmd.Env = specChildEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		d.t.Fatalf("micropubd %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// mint runs micropubd token and returns the token.
func (d *daemon) mint(scope string) string {
	out := strings.Split(strings.TrimSpace(d.run("token", "--data", d.data, "--scope", scope)), "\n")
	return out[len(out)-1]
}

// integrity runs PRAGMA integrity_check on the data folder's database, the server stopped.
func integrity(t *testing.T, data string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "micropubd.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&result); err != nil || result != "ok" {
		t.Errorf("integrity_check: %q %v", result, err)
	}
}

// request sends a request with the token and returns the status, the Location and the body.
func request(t *testing.T, method, rawURL, contentType, token string, body []byte) (int, string, []byte, error) {
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", nil, fmt.Errorf("read the answer: %w", err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), out, nil
}
