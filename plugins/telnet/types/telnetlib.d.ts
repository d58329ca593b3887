// Ambient declarations for the parts of telnetlib 1.0.2 Portico uses (the package ships no types):
// its constants. (The negotiation state machine is Portico's own: options/option-base.ts.)
declare module "telnetlib" {
  export const constants: {
    commands: Record<string, number>;
  };

  const telnetlib: { constants: typeof constants };
  export default telnetlib;
}
