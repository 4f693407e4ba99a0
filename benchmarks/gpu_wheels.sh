#!/usr/bin/env bash
# Prepare, on a machine that reaches PyPI, the Python packages the GPU machine lacks, into ./.whl
# (ignored through .git/info/exclude; the device tool carries it with carry=[".whl"], 64 MiB in
# all). That machine runs Python 3.12 with torch, transformers, tokenizers, safetensors, numpy,
# pandas, pyarrow, scipy, scikit-learn, statsmodels, sacrebleu, peft, accelerate, pluggy, xxhash,
# matplotlib (the device notes list its packages): only lm-eval and what it needs beyond those travel.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
rm -rf .whl && mkdir .whl
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
wheels=("lm-eval==0.4.13" "datasets==5.2.0" "evaluate==0.4.6" "dill==0.4.0" "multiprocess==0.70.18"
        "pytablewriter==1.2.1" "dataproperty==1.1.0" "mbstrdecoder==1.1.4" "pathvalidate==3.3.1"
        "tabledata==1.3.4" "tcolorpy==0.1.7" "typepy==1.3.4" "chardet==5.2.0" "nltk==3.9.2"
        "more-itertools==10.8.0")
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d .whl "${wheels[@]}"
# pure-Python source releases (no wheel published): built there offline with its setuptools
python3 -m pip download -q --no-deps --no-binary=:all: -d .whl "sqlitedict==2.1.0" "word2number==1.1" "rouge-score==0.1.2"
du -sh .whl && ls .whl
