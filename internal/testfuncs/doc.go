// Package testfuncs holds small functions that engine tests compose into
// workflows: relay passes values on, judge decides whether text is illegal.
package testfuncs
