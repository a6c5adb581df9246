// The Node.js probe of the emulator's sandbox test: which Node runs it, and from where.
export const handler = async () => ({ node: process.version, cwd: process.cwd() });
