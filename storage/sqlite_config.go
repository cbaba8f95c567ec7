package storage

/*
// sqlite3_config is SQLite's own, compiled into github.com/mattn/go-sqlite3. It is variadic,
// which cgo cannot call, hence the wrapper.
int sqlite3_config(int, ...);
int sqlite3_status64(int, long long*, long long*, int);

static int sqliteMemstatusOff(void) {
	return sqlite3_config(9, 0); // SQLITE_CONFIG_MEMSTATUS
}

static long long sqliteMemoryUsed(void) {
	long long now = 0, most = 0;
	sqlite3_status64(0, &now, &most, 0); // SQLITE_STATUS_MEMORY_USED
	return now;
}
*/
import "C"

// SQLite keeps statistics of its memory use unless told otherwise, behind a process-wide
// lock taken on every allocation: about 90 a create (the savepoints' journals are built of
// 1 KiB pieces), so the lock and the counting were 5% of a create. Nothing here reads the
// statistics. The setting must come before SQLite starts, that is before the first
// connection opens; this package's init runs before any code can open one through it. If
// SQLite had started already (another package opened a database first), the call changes
// nothing and fails harmlessly.
func init() {
	C.sqliteMemstatusOff()
}

// sqliteMemoryCounted returns the bytes SQLite counts as in use: 0 while its statistics are off.
func sqliteMemoryCounted() int64 { return int64(C.sqliteMemoryUsed()) }
