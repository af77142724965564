package server

import (
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/spf13/pflag"
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
}

// NewEmbeddedEtcdOptions returns the defaults.
func NewEmbeddedEtcdOptions() *EmbeddedEtcdOptions {
	return &EmbeddedEtcdOptions{DataDir: "execution-apiserver.etcd", ClientURL: "http://127.0.0.1:0"}
}

// AddFlags adds the embedded etcd's flags.
func (o *EmbeddedEtcdOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DataDir, "embedded-etcd-data-dir", o.DataDir,
		"Data directory of the embedded etcd, used when --etcd-servers is not set.")
	fs.StringVar(&o.ClientURL, "embedded-etcd-client-url", o.ClientURL,
		"URL the embedded etcd listens on for the server (loopback only; port 0 picks a free port).")
}

// embeddedEtcd is a running embedded etcd.
type embeddedEtcd struct {
	etcd      *embed.Etcd
	clientURL string
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
	klog.InfoS("Embedded etcd is ready", "dataDir", o.DataDir, "address", addr)
	return &embeddedEtcd{etcd: e, clientURL: clientURL.Scheme + "://" + addr}, nil
}

// stop stops the embedded etcd cleanly, so the data directory is consistent.
func (e *embeddedEtcd) stop() {
	e.etcd.Close()
	klog.InfoS("Embedded etcd stopped")
}
