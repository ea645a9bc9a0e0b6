package main

import (
	"net"
)

// defaultAdminListen is where the admin listener binds under auth.mode
// sigv4 when admin.listen is empty: loopback, the API's port plus one.
const defaultAdminListen = "127.0.0.1:4568"

// adminListenOff is the admin.listen value that binds no admin listener.
const adminListenOff = "off"

// adminConfig is the admin section: the operator's listener, which serves
// /healthz, /readyz, /metrics, the web console and the API without
// signatures (server.ServeAdmin).
type adminConfig struct {
	// Listen is the admin listener's host:port. Empty binds
	// defaultAdminListen under auth.mode sigv4 and nothing under none (the
	// API port serves everything then); "off" binds nothing in either mode.
	Listen string
	// ExposeOnAPI keeps /metrics and the console on the API port under
	// auth.mode sigv4, unsigned; under none they are there anyway.
	ExposeOnAPI bool
}

// adminAddr returns the address the admin listener binds, or "" for none.
func (c *config) adminAddr() string {
	switch {
	case c.Admin.Listen == adminListenOff:
		return ""
	case c.Admin.Listen != "":
		return c.Admin.Listen
	case c.Auth.Mode == "sigv4":
		return defaultAdminListen
	}
	return ""
}

// loopback reports whether addr's host is a loopback address or localhost,
// so that only local users reach what it serves.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
