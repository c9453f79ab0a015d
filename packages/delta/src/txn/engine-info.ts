/** `commitInfo.engineInfo` of every Weir commit: `weir/<version>` (kept equal to package.json by a test). */
export const WEIR_VERSION = '0.1.0';
export const ENGINE_INFO = `weir/${WEIR_VERSION}`;
