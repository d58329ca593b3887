import telnetlib from "telnetlib";

/** Telnet command bytes, from telnetlib's constants. */
export const CMD = telnetlib.constants.commands as {
  EOR: 239; SE: 240; NOP: 241; DM: 242; BRK: 243; IP: 244; AO: 245; AYT: 246; EC: 247; EL: 248; GA: 249; SB: 250; WILL: 251; WONT: 252; DO: 253; DONT: 254; IAC: 255;
};

/** Option codes Portico negotiates. */
export const OPT = {
  ECHO: 1,
  SGA: 3,
  TTYPE: 24,
  EOR: 25,
  NAWS: 31,
  LINEMODE: 34,
  CHARSET: 42,
  MSDP: 69,
  MSSP: 70,
  MCCP2: 86,
  MXP: 91,
  GMCP: 201,
} as const;
