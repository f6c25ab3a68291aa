//go:build linux && !amd64 && !arm64

package netns

// sysSetns is unknown on this architecture: joining a namespace from this
// process fails with ENOSYS (HTTPClient, Dial, Listen and the nfqueue
// fallback of Impair need it; Start and Run do not).
const sysSetns = 0
