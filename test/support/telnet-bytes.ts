/** Telnet command bytes (RFC 854), for test clients and fuzzers. */
export const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
