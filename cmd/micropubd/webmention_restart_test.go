package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/storage"
)

// binaryServer is the built micropubd running "serve" in a child process.
type binaryServer struct {
	cmd  *exec.Cmd
	done chan error
	logs *specLog
}

// startBinary runs bin serve on addr with the data folder, reaching private addresses through
// MICROPUBD_ALLOW_PRIVATE_ADDRESSES, and waits until its homepage answers.
func startBinary(t *testing.T, bin, dataDir, addr, base string) *binaryServer {
	t.Helper()
	s := &binaryServer{logs: &specLog{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "serve", "--addr", addr, "--data", dataDir, "--url", base, "--name", "Alice")
	s.cmd.Env = specChildEnv("MICROPUBD_ALLOW_PRIVATE_ADDRESSES=true")
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("micropubd serve output:\n%s", s.logs.tail(6000))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within 20 s: %v\n%s", base, err, s.logs.tail(4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would.
func (s *binaryServer) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed server did not exit")
	}
}

// TestWebmention_QueuesResumeAfterKill9 runs the real binary (Alice) beside an in-process
// server (Bob). While Alice is in the middle of sending a webmention to Bob and of verifying
// one Bob sent her, both held up by Bob, she is killed with SIGKILL. Restarted on the same
// data folder, she finishes both: Bob's post shows her reply, hers shows his.
func TestWebmention_QueuesResumeAfterKill9(t *testing.T) {
	bin := specBuild(t)
	dataDir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", specFreePort(t))
	base := "http://" + addr + "/"
	bob := newWebmentionServer(t, "Bob")
	post := bob.create("name=Crash+tests&content=Do+queues+survive%3F")

	var heldSend, heldVerify atomic.Bool
	sendArrived, verifyArrived := make(chan struct{}, 1), make(chan struct{}, 1)
	killed := make(chan struct{}) // closed once Alice is dead: the held requests end
	var closeKilled sync.Once
	t.Cleanup(func() { closeKilled.Do(func() { close(killed) }) })
	var bobReplyPath atomic.Value
	bobReplyPath.Store("")
	hold := func(r *http.Request, held *atomic.Bool, arrived chan struct{}) bool {
		if !held.CompareAndSwap(false, true) {
			return false // only the first request is held
		}
		arrived <- struct{}{}
		select { // until Alice is dead
		case <-killed:
		case <-r.Context().Done():
		}
		return true
	}
	intercept := func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/webmention" && strings.Contains(r.UserAgent(), addr):
			return hold(r, &heldSend, sendArrived)
		case r.Method == http.MethodGet && r.URL.Path != "/" && r.URL.Path == bobReplyPath.Load().(string) && strings.Contains(r.UserAgent(), addr):
			return hold(r, &heldVerify, verifyArrived)
		}
		return false
	}
	bob.intercept.Store(&intercept)

	alice := startBinary(t, bin, dataDir, addr, base)
	token, err := (&specEnv{bin: bin, dataDir: dataDir}).mint("create update delete", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"micropub", strings.NewReader(url.Values{
		"in-reply-to": {post}, "content": {"They do, if they are written down first."}}.Encode()))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("Alice's reply: %v %v", resp, err)
	}
	reply := resp.Header.Get("Location")
	waitFor(t, "Alice sending to Bob", sendArrived)

	// Bob answers Alice's reply: his server sends her a webmention, and she fetches his post.
	answer := bob.create("in-reply-to=" + url.QueryEscape(reply) + "&content=" + url.QueryEscape("Written down in SQLite, then."))
	bobReplyPath.Store("/" + strings.TrimPrefix(answer, bob.base))
	waitFor(t, "Alice verifying Bob's webmention", verifyArrived)

	alice.kill(t)
	closeKilled.Do(func() { close(killed) })
	db, err := storage.Open(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	sends, _ := db.DueSends(context.Background(), future, 10)
	received, _ := db.DueWebmentions(context.Background(), future, 10)
	db.Close()
	if len(sends) != 1 || sends[0].Target != post || len(received) != 1 || received[0].Source != answer {
		t.Fatalf("after the kill the queues hold %d sends and %d received webmentions, want one of each", len(sends), len(received))
	}

	startBinary(t, bin, dataDir, addr, base)
	eventually(t, "Alice's reply on Bob's post", 20*time.Second, func() bool {
		c := responses(t, bob, post)["comment"]
		return len(c) == 1 && firstOf(c[0], "url") == reply
	})
	eventually(t, "Bob's answer on Alice's reply", 20*time.Second, func() bool {
		resp, page := bob.get(reply, "")
		return resp.StatusCode == http.StatusOK && strings.Contains(string(page), "Written down in SQLite, then.") &&
			strings.Contains(string(page), `class="p-comment h-cite"`)
	})
	m, err := bob.db.WebmentionBySource(context.Background(), reply, postID(t, bob, post))
	if err != nil || m.Status != micropubd.MentionAccepted {
		t.Errorf("Bob's record of Alice's reply: %+v %v", m, err)
	}
}

func waitFor(t *testing.T, what string, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not happen within 20 s", what)
	}
}
