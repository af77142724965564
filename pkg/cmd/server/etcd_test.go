package server

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestEmbeddedEtcdFlags(t *testing.T) {
	o := NewEmbeddedEtcdOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	for flag, want := range map[string]string{
		"embedded-etcd-data-dir":                  "execution-apiserver.etcd",
		"embedded-etcd-client-url":                "http://127.0.0.1:0",
		"embedded-etcd-quota-backend-bytes":       "2147483648",
		"embedded-etcd-auto-compaction-retention": "1h0m0s",
		"embedded-etcd-defrag-interval":           "1h0m0s",
	} {
		f := fs.Lookup(flag)
		if f == nil {
			t.Errorf("no flag --%s", flag)
			continue
		}
		if f.DefValue != want {
			t.Errorf("--%s defaults to %s, want %s", flag, f.DefValue, want)
		}
	}
	if errs := o.Validate(); len(errs) != 0 {
		t.Errorf("defaults do not validate: %v", errs)
	}

	if err := fs.Parse([]string{"--embedded-etcd-quota-backend-bytes=8589934592",
		"--embedded-etcd-auto-compaction-retention=0", "--embedded-etcd-defrag-interval=0"}); err != nil {
		t.Fatal(err)
	}
	if o.QuotaBackendBytes != 8<<30 || o.AutoCompactionRetention != 0 || o.DefragInterval != 0 {
		t.Errorf("parsed %+v", o)
	}
	if errs := o.Validate(); len(errs) != 0 {
		t.Errorf("0 (disabled) does not validate: %v", errs)
	}

	for _, tc := range []struct {
		name   string
		change func(*EmbeddedEtcdOptions)
		want   string
	}{
		{"zero quota", func(o *EmbeddedEtcdOptions) { o.QuotaBackendBytes = 0 }, "--embedded-etcd-quota-backend-bytes must be positive"},
		{"negative quota", func(o *EmbeddedEtcdOptions) { o.QuotaBackendBytes = -1 }, "--embedded-etcd-quota-backend-bytes must be positive"},
		{"negative retention", func(o *EmbeddedEtcdOptions) { o.AutoCompactionRetention = -time.Minute }, "--embedded-etcd-auto-compaction-retention may not be negative"},
		{"negative defrag interval", func(o *EmbeddedEtcdOptions) { o.DefragInterval = -time.Second }, "--embedded-etcd-defrag-interval may not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewEmbeddedEtcdOptions()
			tc.change(o)
			errs := o.Validate()
			if len(errs) != 1 || errs[0].Error() != tc.want {
				t.Errorf("errors %v, want [%s]", errs, tc.want)
			}
			// The server checks them only when it runs the embedded etcd.
			all := NewOptions(io.Discard, io.Discard)
			tc.change(all.EmbeddedEtcd)
			if err := all.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Options.Validate() = %v, want it to contain %q", err, tc.want)
			}
			all.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList = []string{"https://127.0.0.1:2379"}
			if err := all.Validate(); err != nil && strings.Contains(err.Error(), "embedded-etcd") {
				t.Errorf("with --etcd-servers, embedded etcd options are checked: %v", err)
			}
		})
	}
}

// TestEmbeddedEtcdDefragRecoversFromNoSpace fills a small quota until etcd
// raises its NOSPACE alarm and refuses writes, deletes and compacts as the
// apiserver would, and sees the periodic defragmentation shrink the file,
// disarm the alarm and let writes in again.
func TestEmbeddedEtcdDefragRecoversFromNoSpace(t *testing.T) {
	const quota = 16 << 20
	o := NewEmbeddedEtcdOptions()
	o.DataDir = t.TempDir()
	o.UnsafeNoFsync = true
	o.QuotaBackendBytes = quota
	o.DefragInterval = 200 * time.Millisecond
	e, client := startTestEtcd(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	value := strings.Repeat("x", 512<<10)
	var full error
	for i := 0; i < 4*quota/len(value) && full == nil; i++ {
		_, full = client.Put(ctx, "/fill/"+strings.Repeat("k", i+1), value)
	}
	if full == nil || !strings.Contains(full.Error(), "database space exceeded") {
		t.Fatalf("writing %d bytes into a quota of %d: %v, want database space exceeded", 4*quota, quota, full)
	}
	before, err := client.Status(ctx, e.clientURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("database full at %d bytes (quota %d)", before.DbSize, quota)

	// What the apiserver does: objects are deleted, history is compacted.
	del, err := client.Delete(ctx, "/fill/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("deleting under NOSPACE: %v", err)
	}
	if _, err := client.Compact(ctx, del.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compacting: %v", err)
	}

	// A defragmentation that ran before the compaction may already have
	// disarmed the alarm (the file shrinks below the quota once its free
	// pages go), so a write can succeed before the file is small. Wait for
	// the state the loop must reach: small file, no alarm, writes accepted.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var size int64
		var alarms []*etcdserverpb.AlarmMember
		_, err := client.Put(ctx, "/probe", "x")
		if err == nil {
			status, err := client.Status(ctx, e.clientURL)
			if err != nil {
				t.Fatal(err)
			}
			list, err := client.AlarmList(ctx)
			if err != nil {
				t.Fatal(err)
			}
			size, alarms = status.DbSize, list.Alarms
			if size <= before.DbSize/4 && len(alarms) == 0 {
				t.Logf("after defragmentation: %d bytes, no alarm, writes accepted", size)
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after delete and compaction: write error %v, database %d bytes (want at most a quarter of %d), alarms %v",
				err, size, before.DbSize, alarms)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The embedded etcd snapshots, and so trims the raft log it holds in
// memory, every embeddedEtcdSnapshotCount writes rather than etcd's
// default 10,000: status writes of large Executions are ~9 KB entries.
func TestEmbeddedEtcdSnapshotsOften(t *testing.T) {
	o := NewEmbeddedEtcdOptions()
	o.DataDir = t.TempDir()
	o.UnsafeNoFsync = true
	_, client := startTestEtcd(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	snapshots := func() []string {
		files, _ := filepath.Glob(filepath.Join(o.DataDir, "member", "snap", "*.snap"))
		return files
	}
	if files := snapshots(); len(files) != 0 {
		t.Fatalf("snapshots before any write: %v", files)
	}
	for i := range embeddedEtcdSnapshotCount + 100 {
		if _, err := client.Put(ctx, "/status", strings.Repeat("s", 1+i%64)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(snapshots()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot in %s after %d writes", filepath.Join(o.DataDir, "member", "snap"), embeddedEtcdSnapshotCount+100)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startTestEtcd starts the embedded etcd of o and a client of it, both
// stopped when the test ends.
func startTestEtcd(t *testing.T, o *EmbeddedEtcdOptions) (*embeddedEtcd, *clientv3.Client) {
	t.Helper()
	e, err := o.start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{e.clientURL}, DialTimeout: 10 * time.Second, Logger: e.etcd.GetLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return e, client
}
