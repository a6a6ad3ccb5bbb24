#!/usr/bin/env node
// Placeholder until the service lands.
export {};
