// Command mute is a program that never connects to the agent: it sleeps
// for an hour, so the agent must give up on its hello and kill it.
package main

import "time"

func main() { time.Sleep(time.Hour) }
