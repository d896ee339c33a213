// The SDK warns on every client that Node 20 support ends in 2027; in tests it is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
