/** This agent's version, sent at enrollment and in every hello (kept equal to package.json's). */
export const AGENT_VERSION = "0.1.0";
