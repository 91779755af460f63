//! Certificate authorities and leaf certificates made with rcgen at test time.
