// Placeholder replaced by the real reader in the format commit.
export declare class BundleReader {}
