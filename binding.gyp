{
  "targets": [
    {
      "target_name": "connect_prober",
      "sources": ["native/connect_prober.c", "native/prober_common.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    },
    {
      "target_name": "syn_prober",
      "sources": ["native/syn_prober.c", "native/prober_common.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
