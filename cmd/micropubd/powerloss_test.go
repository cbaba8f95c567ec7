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
// loses: what was fsynced, and whatever the kernel happened to write back. The copy is then
// mounted (ext4 replays its journal, as at boot) and the server started on it; every
// acknowledged post and file must be there and intact, and the database must pass its
// integrity check. The next round goes on writing on the copy.
//
// The copy holds every write that reached the device, whole and in order: a disk without a
// volatile cache, the kindest state a power cut leaves. What it does show is that nothing is
// acknowledged before it is fsynced: a SIGKILL (TestCrash_AcknowledgedWritesSurviveSIGKILL)
// loses nothing the server wrote, this loses everything not fsynced.
//
// It needs root, a loop device and mkfs.ext4, and is skipped without them, unless
// MICROPUBD_REQUIRE_POWERLOSS=1 (which .ci/run sets as root where /dev/loop-control exists).
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
	// Where mkfs.ext4, mount and umount are.
	mkfs, mountCmd, umount string
	mnt                    string // where it is mounted
	boots                  int
	cut                    string // the copy the last power cut left, which the next boot mounts
}

// newLoopDisk makes and mounts a 96 MB ext4 file system, or skips the test where that cannot
// be done (not root, no loop devices, no mkfs.ext4), unless MICROPUBD_REQUIRE_POWERLOSS=1.
func newLoopDisk(t *testing.T) *loopDisk {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("MICROPUBD_REQUIRE_POWERLOSS") == "1" {
			t.Fatalf("power-loss test (MICROPUBD_REQUIRE_POWERLOSS=1): %s", msg)
		}
		t.Skipf("power-loss test needs root, a loop device and mkfs.ext4: %s", msg)
	}
	if os.Geteuid() != 0 {
		unavailable("not running as root")
	}
	disk := &loopDisk{dir: t.TempDir()}
	for tool, at := range map[string]*string{"mkfs.ext4": &disk.mkfs, "mount": &disk.mountCmd, "umount": &disk.umount} {
		path, err := exec.LookPath(tool)
		for _, dir := range []string{"/usr/sbin", "/sbin"} { // not always in a root's PATH
			if err != nil {
				path, err = exec.LookPath(filepath.Join(dir, tool))
			}
		}
		if err != nil {
			unavailable("%s is not installed", tool)
		}
		*at = path
	}
	disk.image = filepath.Join(disk.dir, "disk0.img")
	if err := os.WriteFile(disk.image, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk.image, 96<<20); err != nil {
		t.Fatal(err)
	}
	// 4 KiB blocks, as on a real disk (mke2fs picks 1 KiB for one this small), and no lazy
	// initialisation: ext4 would otherwise zero its inode tables in the background, writing to
	// the disk while a power cut copies it.
	mkfs := exec.Command(disk.mkfs, "-q", "-F", "-b", "4096", "-E", "lazy_itable_init=0,lazy_journal_init=0", disk.image)
	if out, err := mkfs.CombinedOutput(); err != nil {
		unavailable("mkfs.ext4: %v %s", err, out)
	}
	t.Cleanup(func() { disk.unmount(t) })
	if err := disk.mount(); err != nil {
		unavailable("%v", err)
	}
	t.Logf("the disk: %s on %s at %s", disk.image, disk.dev, disk.mnt)
	if err := os.Mkdir(disk.dataDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	return disk
}

func (disk *loopDisk) dataDir() string { return filepath.Join(disk.mnt, "data") }

// mount mounts the image through a loop device, which is detached when it is unmounted, even
// if the test is killed first. commit=600 keeps ext4 from committing its journal on a timer
// (every 5 s by default), so that during a round the disk is written by the server's fsyncs
// and little else; noauto_da_alloc stops ext4 from flushing a file replaced by a rename on
// its own.
func (disk *loopDisk) mount() error {
	disk.mnt = filepath.Join(disk.dir, fmt.Sprintf("mnt%d", disk.boots))
	if err := os.Mkdir(disk.mnt, 0o700); err != nil {
		return err
	}
	if out, err := exec.Command(disk.mountCmd, "-t", "ext4", "-o", "loop,commit=600,noauto_da_alloc", disk.image, disk.mnt).CombinedOutput(); err != nil {
		return fmt.Errorf("mount: %v %s", err, out)
	}
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == disk.mnt {
			disk.dev = f[0]
		}
	}
	if !strings.HasPrefix(disk.dev, "/dev/loop") {
		exec.Command(disk.umount, disk.mnt).Run()
		return fmt.Errorf("%s is not mounted from a loop device (%q)", disk.mnt, disk.dev)
	}
	return nil
}

// unmount unmounts the disk, which detaches its loop device, if it is mounted.
func (disk *loopDisk) unmount(t *testing.T) {
	t.Helper()
	if disk.dev == "" {
		return
	}
	if out, err := exec.Command(disk.umount, disk.mnt).CombinedOutput(); err != nil {
		// Busy (a server that failed to stop): detached once no longer used.
		t.Logf("umount %s: %v %s", disk.mnt, err, out)
		exec.Command(disk.umount, "-l", disk.mnt).Run()
	}
	disk.dev = ""
}

// writes reads the loop device's write counters and the requests it has in flight
// (/sys/block/loopN/stat: fields 5 to 9).
func (disk *loopDisk) writes() (string, error) {
	b, err := os.ReadFile("/sys/block/" + filepath.Base(disk.dev) + "/stat")
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(b))
	if len(f) < 9 {
		return "", fmt.Errorf("%s: %q", disk.dev, b)
	}
	return strings.Join(f[4:9], " "), nil
}

// powerCut copies the disk as it is on the device now, the server frozen: what a power cut
// would leave. The copy is the disk the next boot mounts. A copy during which anything was
// written to the device (the kernel writing back on its own) could be torn, a state no power
// cut leaves, so it is taken again.
func (disk *loopDisk) powerCut(t *testing.T) {
	t.Helper()
	next := filepath.Join(disk.dir, fmt.Sprintf("disk%d.img", disk.boots+1))
	for try := 1; ; try++ {
		before, err := disk.writes()
		if err != nil {
			t.Fatal(err)
		}
		// The loop device writes through the image file's page cache, so reading the file
		// reads what reached the device.
		if err := copyFile(next, disk.image); err != nil {
			t.Fatal(err)
		}
		after, err := disk.writes()
		if err != nil {
			t.Fatal(err)
		}
		if before == after && strings.HasSuffix(after, " 0") { // nothing written, none in flight
			break
		}
		if try == 5 {
			t.Fatalf("the disk was written during each of 5 copies (write counters %s, then %s)", before, after)
		}
		time.Sleep(50 * time.Millisecond)
	}
	disk.cut = next
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
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
