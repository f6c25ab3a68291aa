//go:build linux

package netns

const sysSetns = 308
