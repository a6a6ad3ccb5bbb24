// Placeholder until the package lands.
export {};
