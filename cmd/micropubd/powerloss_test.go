//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPowerLoss_AcknowledgedWritesSurvive cuts the power under the crash test's workload: the
// data folder is on an ext4 file system of its own, on a loop device, and a power cut is a
// copy of that device's bytes taken while the server is frozen (SIGSTOP). The copy holds what
// reached the device, and not what was still in the kernel's page cache, which a power cut
// loses: only what was fsynced, or happened to be written back. The copy is then mounted (ext4
// replays its journal, as at boot) and the server started on it; every acknowledged post and
// file must be there and intact, and the database must pass its integrity check. The next
// round goes on writing on the copy.
//
// A SIGKILL (TestCrash_AcknowledgedWritesSurviveSIGKILL) loses nothing the server wrote; this
// loses everything not fsynced, so it is what shows that each write is fsynced, in order,
// before it is acknowledged. It needs root, a loop device and mkfs.ext4; without them it is
// skipped, but not in CI (CI=true) as root.
func TestPowerLoss_AcknowledgedWritesSurvive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and mounts file systems")
	}
	disk := newLoopDisk(t)
	bin := specBuild(t)
	d := newDaemon(t, bin, disk.dataDir())
	d.start()
	survived := interruptRounds(t, d, 4, func() {
		// Every answer the workers have, or will yet read, was written before the freeze.
		freeze(t, d)
		disk.powerCut(t)
		d.kill()
	}, func() {
		disk.boot(t)
		d.data = disk.dataDir()
	})
	t.Logf("4 power cuts: %s survived every one", survived)
	d.stop()
	integrity(t, d.data)
}

// freeze stops the server with SIGSTOP and waits until every thread of it has stopped: a
// system call under way (an fsync) ends first, so that nothing it waits for is half done.
func freeze(t *testing.T, d *daemon) {
	t.Helper()
	pid := d.cmd.Process.Pid
	if err := d.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !allStopped(pid) {
		if time.Now().After(deadline) {
			t.Fatal("the server's threads did not all stop within 10 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// allStopped says whether every thread of pid is in the stopped state (T in /proc's stat).
func allStopped(pid int) bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// pid (comm) state ...: comm may hold spaces, so the state follows the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// loopDisk is an ext4 file system in an image file, mounted through a loop device: a disk
// whose power a test can cut.
type loopDisk struct {
	dir   string // the test's folder for images and mount points
	image string // the image file mounted now
	dev   string // its loop device
	mnt   string // where it is mounted
	boots int
	cut   string // the copy the last power cut left, which the next boot mounts
}

// newLoopDisk makes and mounts a 96 MB ext4 file system, or skips the test where that cannot
// be done (not root, no loop devices, no mkfs.ext4), unless in CI as root.
func newLoopDisk(t *testing.T) *loopDisk {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" && os.Geteuid() == 0 {
			t.Fatalf("power-loss test: %s", msg)
		}
		t.Skipf("power-loss test needs root, a loop device and mkfs.ext4: %s", msg)
	}
	if os.Geteuid() != 0 {
		unavailable("not running as root")
	}
	for _, tool := range []string{"mkfs.ext4", "losetup", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable("%s is not installed", tool)
		}
	}
	disk := &loopDisk{dir: t.TempDir()}
	disk.image = filepath.Join(disk.dir, "disk0.img")
	if err := os.WriteFile(disk.image, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk.image, 96<<20); err != nil {
		t.Fatal(err)
	}
	// No lazy initialisation: ext4 would otherwise zero its inode tables in the background,
	// writing to the disk while a power cut copies it.
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", disk.image).CombinedOutput(); err != nil {
		unavailable("mkfs.ext4: %v %s", err, out)
	}
	t.Cleanup(func() { disk.unmount(t) })
	if err := disk.mount(); err != nil {
		unavailable("%v", err)
	}
	if err := os.Mkdir(disk.dataDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	return disk
}

func (disk *loopDisk) dataDir() string { return filepath.Join(disk.mnt, "data") }

// mount attaches the image to a loop device and mounts it. commit=600 keeps ext4 from
// committing its journal on a timer (every 5 s by default), so that only the server's fsyncs
// put anything on the disk during a round and nothing is written during a power cut's copy;
// noauto_da_alloc stops ext4 from flushing a file replaced by a rename on its own.
func (disk *loopDisk) mount() error {
	out, err := exec.Command("losetup", "--find", "--show", disk.image).CombinedOutput()
	if err != nil {
		return fmt.Errorf("losetup: %v %s", err, out)
	}
	disk.dev = strings.TrimSpace(string(out))
	disk.mnt = filepath.Join(disk.dir, fmt.Sprintf("mnt%d", disk.boots))
	if err := os.Mkdir(disk.mnt, 0o700); err != nil {
		return err
	}
	if out, err := exec.Command("mount", "-t", "ext4", "-o", "commit=600,noauto_da_alloc", disk.dev, disk.mnt).CombinedOutput(); err != nil {
		exec.Command("losetup", "-d", disk.dev).Run()
		disk.dev = ""
		return fmt.Errorf("mount: %v %s", err, out)
	}
	return nil
}

// unmount unmounts the disk and detaches its loop device, if it is mounted.
func (disk *loopDisk) unmount(t *testing.T) {
	t.Helper()
	if disk.dev == "" {
		return
	}
	if out, err := exec.Command("umount", disk.mnt).CombinedOutput(); err != nil {
		// Busy (a server that failed to stop): detach it once no longer used.
		t.Logf("umount %s: %v %s", disk.mnt, err, out)
		exec.Command("umount", "-l", disk.mnt).Run()
	}
	if out, err := exec.Command("losetup", "-d", disk.dev).CombinedOutput(); err != nil {
		t.Logf("losetup -d %s: %v %s", disk.dev, err, out)
	}
	disk.dev = ""
}

// powerCut copies the disk as it is on the device now, the server frozen: the state a power
// cut would leave. The copy is the disk the next boot mounts.
func (disk *loopDisk) powerCut(t *testing.T) {
	t.Helper()
	next := filepath.Join(disk.dir, fmt.Sprintf("disk%d.img", disk.boots+1))
	src, err := os.Open(disk.image)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(next)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	// The loop device writes through the image file's page cache, so reading the file reads
	// what reached the device.
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	disk.cut = next
}

// boot unmounts the disk whose power was cut (the frozen server must be gone) and mounts the
// copy powerCut took in its place.
func (disk *loopDisk) boot(t *testing.T) {
	t.Helper()
	if disk.cut == "" {
		t.Fatal("boot without a power cut")
	}
	disk.unmount(t)
	os.Remove(disk.image)
	disk.image, disk.cut = disk.cut, ""
	disk.boots++
	if err := disk.mount(); err != nil {
		t.Fatalf("mount the disk after the power cut: %v", err)
	}
}
