"""Checks the Kubernetes manifests offline, as no cluster runs here: each
document against the Kubernetes API's schemas (kubernetes-validate, strict,
so an unknown field is an error), then what the schemas cannot see: the Job
is Indexed, its pods never restart in place, its completions equal the
shard count the pods pass to --shard, each pod's command (run by /bin/sh
with its completion index, upstream replaced by a stand-in that prints its
arguments) names a different shard and together they name every one, and
the merge reads the folder the shards write, on the same claim.

    python3 deploy/kubernetes/check.py   # needs: pip install kubernetes-validate
"""

import os
import pathlib
import re
import subprocess
import sys
import tempfile

import kubernetes_validate
import yaml

HERE = pathlib.Path(__file__).parent
VERSION = "1.30.0"


def load(name):
    return [d for d in yaml.safe_load_all((HERE / name).read_text()) if d]


def fail(message):
    sys.exit(f"deploy/kubernetes: {message}")


def main():
    shards_docs, merge_docs = load("shards.yaml"), load("merge.yaml")
    for doc in shards_docs + merge_docs:
        try:
            kubernetes_validate.validate(doc, VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            fail(f"{doc['kind']} {doc['metadata']['name']}: {e.message} at {list(e.path)}")
    jobs = {d["metadata"]["name"]: d for d in shards_docs + merge_docs if d["kind"] == "Job"}
    claims = [d["metadata"]["name"] for d in shards_docs if d["kind"] == "PersistentVolumeClaim"]
    shards, merge = jobs["upstream-shards"]["spec"], jobs["upstream-merge"]["spec"]
    if shards.get("completionMode") != "Indexed":
        fail("upstream-shards must be an Indexed Job")
    pods = [shards["template"]["spec"], merge["template"]["spec"]]
    if any(p.get("restartPolicy") != "Never" for p in pods):
        fail("pods must have restartPolicy Never, so a failed shard is retried as a new pod")
    container = pods[0]["containers"][0]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    script = " ".join(container["args"])
    if str(shards["completions"]) != env.get("SHARDS"):
        fail(f"completions is {shards['completions']} but SHARDS is {env.get('SHARDS')}")
    if not 1 <= shards["parallelism"] <= shards["completions"]:
        fail("parallelism must be from 1 to completions")
    asked = set()
    with tempfile.TemporaryDirectory() as bin_dir:
        stand_in = pathlib.Path(bin_dir) / "upstream"
        stand_in.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
        stand_in.chmod(0o755)
        for index in range(shards["completions"]):
            pod_env = dict(env, JOB_COMPLETION_INDEX=str(index),
                           PATH=f"{bin_dir}:{os.environ['PATH']}")
            out = subprocess.run([*container["command"], *container["args"]], env=pod_env,
                                 capture_output=True, text=True, check=True).stdout.split("\n")
            asked.add(out[out.index("--shard") + 1])
    n = shards["completions"]
    if asked != {f"{k}/{n}" for k in range(1, n + 1)}:
        fail(f"the pods ask for shards {sorted(asked)}, not 1/{n} to {n}/{n}")
    parts = re.search(r"--out (\S+)", script).group(1)
    if merge["template"]["spec"]["containers"][0]["command"][2] != parts:
        fail(f"the merge must read {parts}, the folder the shards write")
    for p in pods:
        (volume,) = p["volumes"]
        if volume["persistentVolumeClaim"]["claimName"] not in claims:
            fail("every pod must mount the shared claim")
        mounts = [m["mountPath"] for m in p["containers"][0]["volumeMounts"]]
        if not parts.startswith(mounts[0] + "/"):
            fail(f"{parts} is not on the shared volume ({mounts[0]})")
    print(f"deploy/kubernetes: valid against Kubernetes {VERSION}'s schemas; "
          f"{shards['completions']} shards, merged from {parts}")


if __name__ == "__main__":
    main()
