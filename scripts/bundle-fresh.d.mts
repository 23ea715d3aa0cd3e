export declare const BUNDLE: string;
export declare function bundleIsFresh(): boolean;
