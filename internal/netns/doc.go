// Package netns builds small multi-host networks out of Linux network
// namespaces for tests that need real hosts: one namespace per host, each
// with its own loopback and one veth link to a bridge in a hub namespace,
// addresses in a private /24 that exists only inside those namespaces.
// Nothing is added to the namespace the test runs in: no bridge, no veth, no
// address, no route — so nothing the tests send can leave the machine.
//
// Everything it makes is named "ffmh-<pid>-<n>-<host>" (the hub's host name
// is "hub"): the test process's PID keeps parallel runs apart, and New
// removes what a dead process of an earlier run left behind — only names of
// that form whose PID no longer runs.
//
// It needs root and the ip command (iproute2); Check says whether they are
// there. Clients reach the hosts only from inside a namespace: run them with
// Net.Start or Net.Run (ip netns exec), or use Net.HTTPClient, whose sockets
// are made inside a host's namespace.
//
// It works on Linux only; elsewhere the package is empty.
package netns
