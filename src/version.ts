/** hookd's version, sent as `User-Agent: hookd/<version>` and shown by `hookd version`. */
export const VERSION = "0.1.0";
