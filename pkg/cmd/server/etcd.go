package server

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/klog/v2"
)

// EmbeddedEtcdOptions configure the single-member etcd the server runs in
// its own process when no --etcd-servers are given: one machine needs no
// separate etcd, and workflow churn stays out of the cluster's etcd.
type EmbeddedEtcdOptions struct {
	DataDir string
	// ClientURL is where the embedded etcd listens for its only client, the
	// server itself. Port 0 picks a free port.
	ClientURL string
	// UnsafeNoFsync speeds up tests; never set it where data matters.
	UnsafeNoFsync bool

	// QuotaBackendBytes is the size the database may reach. Past it etcd
	// raises its NOSPACE alarm and refuses every write but deletes (and
	// compactions) until space is reclaimed and the alarm disarmed.
	QuotaBackendBytes int64
	// AutoCompactionRetention makes etcd itself compact, every retention
	// period (a tenth of it from 1h on), the history older than the
	// retention. 0 leaves compaction to the apiserver's own
	// (--etcd-compaction-interval) alone.
	AutoCompactionRetention time.Duration
	// DefragInterval is how often the server defragments the embedded etcd,
	// which returns the space compaction freed to the file system, and
	// disarms a NOSPACE alarm once the database fits in its quota again.
	// 0 disables it.
	DefragInterval time.Duration
}

const (
	// embeddedEtcdSnapshotCount and embeddedEtcdSnapshotCatchUpEntries
	// bound the raft entries the embedded etcd keeps in memory (see start).
	embeddedEtcdSnapshotCount          = 2000
	embeddedEtcdSnapshotCatchUpEntries = 500
	// defaultQuotaBackendBytes is etcd's own default, said explicitly.
	defaultQuotaBackendBytes = int64(2 << 30)
	// maxRecommendedQuotaBackendBytes is the largest quota etcd recommends.
	maxRecommendedQuotaBackendBytes = int64(8 << 30)
	// defragMinFreeFraction: a periodic defragmentation is skipped while less
	// than this fraction of the database file is free (it blocks reads and
	// writes while it copies the database) unless the NOSPACE alarm is raised.
	defragMinFreeFraction = 0.1
)

// NewEmbeddedEtcdOptions returns the defaults.
func NewEmbeddedEtcdOptions() *EmbeddedEtcdOptions {
	return &EmbeddedEtcdOptions{
		DataDir:                 "execution-apiserver.etcd",
		ClientURL:               "http://127.0.0.1:0",
		QuotaBackendBytes:       defaultQuotaBackendBytes,
		AutoCompactionRetention: time.Hour,
		DefragInterval:          time.Hour,
	}
}

// AddFlags adds the embedded etcd's flags.
func (o *EmbeddedEtcdOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DataDir, "embedded-etcd-data-dir", o.DataDir,
		"Data directory of the embedded etcd, used when --etcd-servers is not set.")
	fs.StringVar(&o.ClientURL, "embedded-etcd-client-url", o.ClientURL,
		"URL the embedded etcd listens on for the server (loopback only; port 0 picks a free port).")
	fs.Int64Var(&o.QuotaBackendBytes, "embedded-etcd-quota-backend-bytes", o.QuotaBackendBytes,
		"Size the embedded etcd's database may reach (etcd's --quota-backend-bytes); past it every write fails until space is reclaimed. At most 8 GiB is recommended.")
	fs.DurationVar(&o.AutoCompactionRetention, "embedded-etcd-auto-compaction-retention", o.AutoCompactionRetention,
		"History the embedded etcd keeps when it compacts itself (etcd's --auto-compaction-mode=periodic); 0 disables it. The server's own compaction (--etcd-compaction-interval) keeps less; this one still works when that one cannot, e.g. while the database is full.")
	fs.DurationVar(&o.DefragInterval, "embedded-etcd-defrag-interval", o.DefragInterval,
		"How often the embedded etcd is defragmented when at least 10% of its database file is free, or its space quota is exhausted (then its NOSPACE alarm is disarmed once the data fits again); 0 disables it.")
}

// Validate checks the options of the embedded etcd.
func (o *EmbeddedEtcdOptions) Validate() []error {
	var errs []error
	if o.QuotaBackendBytes <= 0 {
		errs = append(errs, fmt.Errorf("--embedded-etcd-quota-backend-bytes must be positive"))
	}
	if o.AutoCompactionRetention < 0 {
		errs = append(errs, fmt.Errorf("--embedded-etcd-auto-compaction-retention may not be negative"))
	}
	if o.DefragInterval < 0 {
		errs = append(errs, fmt.Errorf("--embedded-etcd-defrag-interval may not be negative"))
	}
	return errs
}

// embeddedEtcd is a running embedded etcd.
type embeddedEtcd struct {
	etcd      *embed.Etcd
	clientURL string

	// stopDefrag stops the defragmentation loop and waits for it.
	stopDefrag func()
}

// start starts the embedded etcd and waits until it serves.
func (o *EmbeddedEtcdOptions) start() (*embeddedEtcd, error) {
	clientURL, err := url.Parse(o.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("parsing --embedded-etcd-client-url: %w", err)
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating embedded etcd data directory: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Name = "execution-apiserver"
	cfg.Dir = o.DataDir
	cfg.UnsafeNoFsync = o.UnsafeNoFsync
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	// A single member never talks to peers: listen on a loopback port the
	// kernel picks, so nothing collides with another etcd on the machine.
	peerURL := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.QuotaBackendBytes = o.QuotaBackendBytes
	if o.QuotaBackendBytes > maxRecommendedQuotaBackendBytes {
		klog.InfoS("Warning: --embedded-etcd-quota-backend-bytes is above the 8 GiB etcd recommends", "bytes", o.QuotaBackendBytes)
	}
	// etcd keeps every raft entry since its last snapshot in memory, plus
	// the catch-up entries for slow followers. Its defaults (10,000 and
	// 5,000) are sized for many small writes: a status write of a large
	// Execution is a ~9 KB entry, so they would let the log hold ~135 MB.
	// A single member has no followers to catch up.
	cfg.SnapshotCount = embeddedEtcdSnapshotCount
	cfg.SnapshotCatchUpEntries = embeddedEtcdSnapshotCatchUpEntries
	cfg.AutoCompactionMode = embed.CompactorModePeriodic
	cfg.AutoCompactionRetention = o.AutoCompactionRetention.String()
	cfg.LogLevel = "error"
	cfg.Logger = "zap"

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", o.DataDir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(time.Minute):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s did not become ready within a minute", o.DataDir)
	}
	addr := e.Clients[0].Addr().String()
	klog.InfoS("Embedded etcd is ready", "dataDir", o.DataDir, "address", addr,
		"quotaBackendBytes", o.QuotaBackendBytes, "autoCompactionRetention", o.AutoCompactionRetention, "defragInterval", o.DefragInterval)
	ee := &embeddedEtcd{etcd: e, clientURL: clientURL.Scheme + "://" + addr, stopDefrag: func() {}}
	if o.DefragInterval > 0 {
		stop, err := startDefragLoop(e, ee.clientURL, o.DefragInterval, o.QuotaBackendBytes)
		if err != nil {
			e.Close()
			return nil, err
		}
		ee.stopDefrag = stop
	}
	return ee, nil
}

// stop stops the embedded etcd cleanly, so the data directory is consistent.
func (e *embeddedEtcd) stop() {
	e.stopDefrag()
	e.etcd.Close()
	klog.InfoS("Embedded etcd stopped")
}

// startDefragLoop defragments the etcd at endpoint every interval, through
// its maintenance API (as etcdctl defrag does, so its health endpoint knows a
// defragmentation is under way). The returned function stops the loop and
// waits for it; a defragmentation under way is abandoned by the client.
func startDefragLoop(e *embed.Etcd, endpoint string, interval time.Duration, quota int64) (func(), error) {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		DialTimeout: 10 * time.Second,
		// The embedded etcd's own logger: errors only.
		Logger: e.GetLogger().Named("defrag-client"),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the embedded etcd's maintenance client: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			if err := defragOnce(ctx, client, endpoint, quota); err != nil && ctx.Err() == nil {
				klog.ErrorS(err, "Defragmenting the embedded etcd failed; trying again in one interval", "interval", interval)
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		_ = client.Close()
	}, nil
}

// defragOnce defragments when it is worth it: when at least
// defragMinFreeFraction of the database file is free, or when the NOSPACE
// alarm is raised. After it, a NOSPACE alarm is disarmed if the database fits
// in its quota again (etcd raises it again on the next write that does not).
func defragOnce(ctx context.Context, client *clientv3.Client, endpoint string, quota int64) error {
	status, err := client.Status(ctx, endpoint)
	if err != nil {
		return fmt.Errorf("reading status: %w", err)
	}
	alarms, err := client.AlarmList(ctx)
	if err != nil {
		return fmt.Errorf("listing alarms: %w", err)
	}
	var noSpace []*clientv3.AlarmMember
	for _, a := range alarms.Alarms {
		if a.Alarm.String() == "NOSPACE" {
			noSpace = append(noSpace, (*clientv3.AlarmMember)(a))
		}
	}
	free := status.DbSize - status.DbSizeInUse
	if len(noSpace) == 0 && float64(free) < defragMinFreeFraction*float64(status.DbSize) {
		klog.V(4).InfoS("Embedded etcd defragmentation skipped: little to reclaim", "dbSize", status.DbSize, "dbSizeInUse", status.DbSizeInUse)
		return nil
	}
	start := time.Now()
	if _, err := client.Defragment(ctx, endpoint); err != nil {
		return fmt.Errorf("defragmenting: %w", err)
	}
	after, err := client.Status(ctx, endpoint)
	if err != nil {
		return fmt.Errorf("reading status after defragmentation: %w", err)
	}
	klog.InfoS("Defragmented the embedded etcd", "dbSizeBefore", status.DbSize, "dbSizeAfter", after.DbSize,
		"dbSizeInUse", after.DbSizeInUse, "duration", time.Since(start).Round(time.Millisecond))
	if len(noSpace) == 0 {
		return nil
	}
	if after.DbSize >= quota {
		return fmt.Errorf("the embedded etcd's database (%d bytes) is still above its quota (%d bytes, --embedded-etcd-quota-backend-bytes): NOSPACE alarm kept, writes keep failing", after.DbSize, quota)
	}
	for _, a := range noSpace {
		if _, err := client.AlarmDisarm(ctx, a); err != nil {
			return fmt.Errorf("disarming the NOSPACE alarm: %w", err)
		}
	}
	klog.InfoS("Disarmed the embedded etcd's NOSPACE alarm: the database fits in its quota again", "dbSize", after.DbSize, "quotaBackendBytes", quota)
	return nil
}
