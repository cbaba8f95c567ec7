package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// smallDisk mounts a tmpfs of size bytes for the test and returns its folder. It needs root
// (CI runs as root) or, failing that, re-runs the test in a user and mount namespace of its
// own, where an unprivileged user may mount a tmpfs: then here is false, the test has run
// (and passed) there, and the caller returns. Where neither works the test is skipped.
func smallDisk(t *testing.T, size int) (dir string, here bool) {
	t.Helper()
	dir = t.TempDir()
	err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size))
	if err == nil {
		t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
		return dir, true
	}
	if !errors.Is(err, syscall.EPERM) || os.Getenv("MICROPUBD_TEST_IN_USERNS") != "" {
		t.Skipf("cannot mount a small tmpfs here: %v", err)
	}
	// Again, as root of a new user namespace.
	cmd := exec.Command(os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "MICROPUBD_TEST_IN_USERNS=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, runErr := cmd.CombinedOutput()
	switch {
	case runErr == nil && bytes.Contains(out, []byte("--- SKIP")):
		t.Skipf("skipped in a user namespace too:\n%s", out)
	case runErr == nil:
		t.Logf("passed in a user namespace:\n%s", out)
	case bytes.Contains(out, []byte("--- FAIL")):
		t.Fatalf("failed in a user namespace:\n%s", out)
	default:
		t.Skipf("cannot mount a small tmpfs (%v) nor make a user namespace (%v)", err, runErr)
	}
	return "", false
}

// fill writes a file in dir until the disk is full, leaving keep bytes free (rounded to the
// file system's blocks); it returns the file's path.
func fill(t *testing.T, dir string, keep int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for len(chunk) > 4096 { // the last blocks, in smaller writes
		chunk = chunk[:len(chunk)/2]
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
	}
	if keep > 0 {
		st, _ := f.Stat()
		if err := f.Truncate(st.Size() - keep); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	syscall.Statfs(dir, &st)
	return int64(st.Bavail) * st.Bsize
}

// wantNoSpace checks a 507 that names no path of the server's.
func wantNoSpace(t *testing.T, what string, status int, body []byte, disk string) {
	t.Helper()
	var e map[string]string
	json.Unmarshal(body, &e)
	if status != http.StatusInsufficientStorage || e["error"] != "insufficient_storage" || e["error_description"] == "" {
		t.Errorf("%s on a full disk: %d %s, want a JSON 507", what, status, body)
	}
	if bytes.Contains(body, []byte(disk)) || bytes.Contains(body, []byte("/tmp")) || bytes.Contains(body, []byte("upload-")) {
		t.Errorf("%s: the answer names a path of the server: %s", what, body)
	}
}

func photoUpload(t *testing.T, img []byte) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, _ := mw.CreateFormFile("file", "p.png")
	part.Write(img)
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// TestDiskFull_WritesAre507ReadsGoOnAndWritesComeBack fills the disk under the running binary,
// then frees it; then starts the binary with a few KB free.
func TestDiskFull_WritesAre507ReadsGoOnAndWritesComeBack(t *testing.T) {
	disk, here := smallDisk(t, 12<<20)
	if !here {
		return
	}
	data := filepath.Join(disk, "data")
	d := newDaemon(t, specBuild(t), data)
	d.start()
	token := d.mint("create update media")
	form := "application/x-www-form-urlencoded"
	create := func(content string) (int, string, []byte) {
		status, loc, body, err := request(t, http.MethodPost, d.base+"micropub", form, token, []byte("content="+url.QueryEscape(content)+"&category=full"))
		if err != nil {
			t.Fatal(err)
		}
		return status, loc, body
	}
	status, post, body := create("written before the disk filled")
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	reads := func(when string) {
		t.Helper()
		for _, u := range []string{d.base, post, d.base + "micropub?q=source&url=" + url.QueryEscape(post), d.base + "micropub?q=category"} {
			if status, _, body, err := request(t, http.MethodGet, u, "", token, nil); err != nil || status != http.StatusOK {
				t.Errorf("%s: GET %s: %d %v %s", when, u, status, err, body)
			}
		}
	}

	filler := fill(t, disk, 0)
	t.Logf("disk full: %d bytes free", freeBytes(disk))
	ct, up := photoUpload(t, uniquePNG(t, 1))
	status, _, body, err := request(t, http.MethodPost, d.base+"micropub/media", ct, token, up)
	if err != nil {
		t.Fatal(err)
	}
	wantNoSpace(t, "an upload", status, body, disk)
	// The log may still have room for a few pages: writes go on until they meet the full disk.
	refused := 0
	for i := range 400 {
		status, _, body := create(fmt.Sprintf("while full %d %s", i, strings.Repeat("x", 2000)))
		if status == http.StatusCreated {
			continue
		}
		wantNoSpace(t, "a create", status, body, disk)
		refused++
		if refused == 3 {
			break
		}
	}
	if refused == 0 {
		t.Fatal("400 creates on a full disk were all accepted")
	}
	update := fmt.Sprintf(`{"action":"update","url":%q,"replace":{"content":[%q]}}`, post, strings.Repeat("y", 8000))
	status, _, body, _ = request(t, http.MethodPost, d.base+"micropub", "application/json", token, []byte(update))
	if status != http.StatusNoContent {
		wantNoSpace(t, "an update", status, body, disk)
	}
	reads("disk full")

	os.Remove(filler) // space comes back; no restart
	if status, _, body := create("after space came back"); status != http.StatusCreated {
		t.Errorf("create after freeing space: %d %s", status, body)
	}
	if status, _, body, _ := request(t, http.MethodPost, d.base+"micropub/media", ct, token, up); status != http.StatusCreated {
		t.Errorf("upload after freeing space: %d %s", status, body)
	}
	d.stop()

	// A start with a few KB free: reads are served, writes refused with a clear message.
	filler = fill(t, disk, 8<<10)
	t.Logf("starting with %d bytes free", freeBytes(disk))
	d.start()
	reads("started on a full disk")
	status, _, body = create(strings.Repeat("z", 64<<10))
	wantNoSpace(t, "a create after starting on a full disk", status, body, disk)
	if !strings.Contains(d.logs.String(), "disk") {
		t.Errorf("the log does not say the disk is full:\n%s", d.logs.String())
	}
	os.Remove(filler)
	if status, _, body := create("after space came back again"); status != http.StatusCreated {
		t.Errorf("create after freeing space: %d %s", status, body)
	}
	d.stop()
	integrity(t, data)
}
