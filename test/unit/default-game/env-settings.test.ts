import { expect } from "chai";
import { GAME_ENV_SETTINGS, limitsFromEnv } from "../../../core/default-game/env-settings.js";
import { DEFAULT_LIMITS } from "../../../core/default-game/game.js";

describe("default game: limits from the environment", () => {
  it("nothing set: no overrides (the game's defaults apply)", () => {
    expect(limitsFromEnv({})).to.deep.equal({});
    expect(limitsFromEnv({ PORTICO_GAME_ACCOUNT_MAX_FAILURES: "" })).to.deep.equal({});
  });

  it("reads each variable, seconds becoming milliseconds", () => {
    expect(limitsFromEnv({
      PORTICO_GAME_ACCOUNT_MAX_FAILURES: "3",
      PORTICO_GAME_ACCOUNT_LOCKOUT_SECONDS: "60",
      PORTICO_GAME_ACCOUNT_CREATE_LIMIT: "0",
      PORTICO_GAME_CHANNEL_CREATE_WINDOW_SECONDS: "7200",
      PORTICO_GAME_LOGIN_FAIL_DELAY_MS: "250",
    })).to.deep.equal({ accountMaxFailures: 3, accountLockoutMs: 60_000, accountCreateLimit: 0, channelCreateWindowMs: 7_200_000, failDelayMs: 250 });
  });

  it("a bad value names the variable and the allowed range", () => {
    expect(() => limitsFromEnv({ PORTICO_GAME_ACCOUNT_CREATE_LIMIT: "many" })).to.throw(/^PORTICO_GAME_ACCOUNT_CREATE_LIMIT must be a whole number from 0 to 1000000 .*got "many"$/);
    expect(() => limitsFromEnv({ PORTICO_GAME_ACCOUNT_LOCKOUT_SECONDS: "0" })).to.throw(/PORTICO_GAME_ACCOUNT_LOCKOUT_SECONDS must be a whole number from 1 /);
    expect(() => limitsFromEnv({ PORTICO_GAME_ADDRESS_MAX_FAILURES: "-1" })).to.throw(/PORTICO_GAME_ADDRESS_MAX_FAILURES/);
    expect(() => limitsFromEnv({ PORTICO_GAME_LOGIN_FAIL_DELAY_MS: "1.5" })).to.throw(/PORTICO_GAME_LOGIN_FAIL_DELAY_MS/);
  });

  it("the documented defaults are the game's defaults", () => {
    const byOption = Object.fromEntries(GAME_ENV_SETTINGS.map((s) => [s.option, s.default * s.scale]));
    for (const [key, value] of Object.entries(DEFAULT_LIMITS)) expect(byOption[key], key).to.equal(value);
    expect(new Set(GAME_ENV_SETTINGS.map((s) => s.name)).size).to.equal(GAME_ENV_SETTINGS.length);
  });
});
