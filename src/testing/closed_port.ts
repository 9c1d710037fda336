/**
 * A port where nothing listens on any loopback address (127.0.0.1, 127.0.0.2, …),
 * for tests of refused connections.
 *
 * Binding port 0 and closing it again does not do: the kernel hands freed
 * ports to the next `port: 0` listener, and with test files running in
 * parallel that was another test's daemon (CI saw the CLI reach one and be
 * told its key was wrong). Ports below 1024 are never handed out that way;
 * 4 is unassigned and, unlike 9, not on fetch's list of refused ports.
 */
export const CLOSED_PORT = 4;
