/**
 * Deterministic test data for the telnet benchmark: markup-heavy game output lines (what a game
 * hands to `send_text`) and a realistic client input stream (typed lines with NAWS, GMCP, IAC NOP
 * and IAC IAC mixed in). A fixed seed makes every run use the same bytes.
 */

import { prng } from "../support/prng.js";

const MOBS = ["goblin", "cave troll", "grey wolf", "bandit captain", "giant spider", "skeleton archer", "wyvern", "town guard"];
const ITEMS = ["rusty sword", "oak shield", "healing potion", "silver ring", "torn map", "iron key", "bag of coins", "elven cloak"];
const PLAYERS = ["Alice", "Bob", "Celeborn", "Dagny", "Eowyn", "Faramir", "Gimli", "Hroth"];
const ROOMS = ["The Town Square", "A Narrow Alley", "The Rusty Anchor Tavern", "Outside the North Gate", "A Damp Cave", "The Temple of Light"];
const EXITS = ["north", "south", "east", "west", "up", "down", "northeast", "southwest"];
const HEX = ["#ff8800", "#c0c0c0", "#33ccff", "#aa00ff", "#ffd700", "#8b4513", "#e0e0e0", "#00ff7f"];
const CUBE = ["500", "050", "005", "530", "035", "345", "222", "551"];
const GREYS = ["=a", "=e", "=j", "=m", "=p", "=t", "=w", "=z"];

/**
 * `count` lines of game output markup: room titles and descriptions, exits as MXP-able links,
 * combat with xterm and truecolor codes, channel chatter, a status prompt, a who-list row with
 * backgrounds and decorations, and some non-ASCII text: 25–120 characters of markup each.
 */
export function gameOutputMarkup(count: number, seed = 42): string[] {
  const rnd = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const n = (max: number) => 1 + Math.floor(rnd() * max);
  const templates: (() => string)[] = [
    () => `|c== |w${pick(ROOMS)}|c ==|n`,
    () => `|gA weathered |yoak tree|g stands here, its branches heavy with |r${pick(["apples", "snow", "ravens"])}|g. The wind smells of |${pick(CUBE)}rain|g and woodsmoke.|n`,
    () => `|wExits:|n ${[pick(EXITS), pick(EXITS), pick(EXITS)].map((e) => `|lc${e}|lt|y${e}|n|le`).join(", ")}`,
    () => `|${pick(CUBE)}The ${pick(MOBS)}|n hits you with a |${pick(HEX)}${pick(ITEMS)}|n for |R${n(60)}|n damage! (|[r|wcritical|n)`,
    () => `You |hslash|H the ${pick(MOBS)} with your |${pick(HEX)}${pick(ITEMS)}|n: |G${n(40)}|n damage, it has |${pick(GREYS)}${n(100)}%|n health left.`,
    () => `|035[OOC]|n |w${pick(PLAYERS)}|n: anyone up for the ${pick(MOBS)} run tonight? ||o/ meet at ${pick(ROOMS).toLowerCase()}`,
    () => `|gHP: |G${n(150)}|g/|G150 |bMP: |B${n(100)}|b/|B100 |yMV: |Y${n(200)}|y/|Y200|n |x[|${pick(CUBE)}${pick(MOBS)}|x]|n >`,
    () => `|[${pick(["b", "r", "g", "x"])}|w ${pick(PLAYERS).padEnd(10)}|n |u${pick(["Warrior", "Mage", "Thief", "Cleric"])}|U lvl |h${n(50)}|H |*AFK|n |i${pick(["wandering", "questing", "idle"])}|I`,
    () => `You see here: |${pick(HEX)}a ${pick(ITEMS)}|n, |${pick(HEX)}a ${pick(ITEMS)}|n and |${pick(CUBE)}${n(30)} gold coins|n.`,
    () => `The café’s sign reads «|yWelcome, traveller|n» — the ${pick(MOBS)} behind the counter nods at you.`,
    () => `|${pick(GREYS)}g|${pick(GREYS)}r|${pick(GREYS)}a|${pick(GREYS)}d|${pick(GREYS)}i|${pick(GREYS)}e|${pick(GREYS)}n|${pick(GREYS)}t|n |#${pick(["f80", "0cf", "a0f"])}short hex|n |[#202020|#e0e0e0dark panel|n |ssold out|S`,
    () => `|w${pick(PLAYERS)}|n tells you, '|c${pick(["Thanks for the", "Can I borrow your", "Have you seen my"])} ${pick(ITEMS)}?|n' |lcreply ${pick(PLAYERS)}|lt[reply]|le`,
  ];
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) out.push(templates[i % templates.length]!());
  return out;
}

const IAC = 255;
const SB = 250;
const SE = 240;
const NOP = 241;
const NAWS = 31;
const GMCP = 201;

function subneg(option: number, payload: Buffer): Buffer {
  const escaped: number[] = [];
  for (const b of payload) {
    escaped.push(b);
    if (b === IAC) escaped.push(IAC);
  }
  return Buffer.from([IAC, SB, option, ...escaped, IAC, SE]);
}

const TYPED = [
  "look", "n", "e", "s", "w", "kill goblin", "get all from corpse", "inventory", "score", "cast 'fireball' wyvern",
  "say Hello everyone, how is the hunting today?", "tell Alice meet me at the north gate in five",
  "ooc anyone selling healing potions? paying well", "buy 3 bread", "wear elven cloak", "emote stretches and yawns.",
  "put silver ring in bag", "look at the weathered oak tree", "who", "help combat",
];

export interface InputStream {
  bytes: Buffer;
  /** Lines the stream contains (each ends in CR LF). */
  lines: number;
  subnegotiations: number;
}

/**
 * About `size` bytes of what a MUD client sends: typed commands ending in CR LF; every 16th
 * line is preceded by a NAWS resize, every 24th by a GMCP message (Core.Ping or a Char.Skills.Get
 * JSON body), every 40th by an IAC NOP keep-alive; every 20th typed line carries a latin-1 "ÿ"
 * (0xFF, sent as IAC IAC). Ends on a line boundary so it can be fed again and again.
 */
export function clientInputStream(size: number, seed = 7): InputStream {
  const rnd = prng(seed);
  const parts: Buffer[] = [];
  let total = 0;
  let lines = 0;
  let subnegotiations = 0;
  const add = (b: Buffer) => {
    parts.push(b);
    total += b.length;
  };
  while (total < size) {
    if (lines % 16 === 15) {
      const p = Buffer.alloc(4);
      p.writeUInt16BE(80 + Math.floor(rnd() * 120), 0);
      p.writeUInt16BE(24 + Math.floor(rnd() * 40), 2);
      add(subneg(NAWS, p));
      subnegotiations += 1;
    }
    if (lines % 24 === 23) {
      const body = rnd() < 0.5 ? "Core.Ping" : `Char.Skills.Get {"group":"combat","name":"${TYPED[Math.floor(rnd() * 5)]}"}`;
      add(subneg(GMCP, Buffer.from(body, "utf8")));
      subnegotiations += 1;
    }
    if (lines % 40 === 39) add(Buffer.from([IAC, NOP]));
    const typed = TYPED[Math.floor(rnd() * TYPED.length)]!;
    const line = lines % 20 === 19 ? Buffer.concat([Buffer.from(`say m${"\u00e9"}h `, "latin1"), Buffer.from([IAC, IAC]), Buffer.from("s\r\n", "latin1")])
      : Buffer.from(`${typed}\r\n`, "latin1");
    add(line);
    lines += 1;
  }
  return { bytes: Buffer.concat(parts, total), lines, subnegotiations };
}
