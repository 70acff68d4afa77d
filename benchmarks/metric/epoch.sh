#!/bin/sh
# Times training epochs of the 784 -> 512 -> 128 MLP on Fashion-MNIST with MLNetRetrieval and with
# PyTorch (Debian python3-torch) in one run, at each thread count, alternating the two programs.
# Usage: benchmarks/metric/epoch.sh [threads...]   (default: 1 2); EPOCHS sets epochs per run (default 3).
# PyTorch runs with OMP_WAIT_POLICY=PASSIVE unless the variable is set: on a machine with more runnable
# threads than cores, GNU OpenMP's default spin-waiting made one two-thread ReLU of 256 x 512 take about
# 25 ms instead of 0.06 ms, so two-thread epochs took over 100 s.
set -eu
omp_policy="${OMP_WAIT_POLICY:-PASSIVE}"
cd "$(dirname "$0")/../.."
epochs="${EPOCHS:-3}"
threads="${*:-1 2}"
dotnet build benchmarks/MLNetRetrieval.Benchmarks -c Release -v quiet -nologo >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, torch OMP_WAIT_POLICY=$omp_policy"
for t in $threads; do
    dotnet benchmarks/MLNetRetrieval.Benchmarks/bin/Release/net10.0/MLNetRetrieval.Benchmarks.dll --metric-epoch --threads "$t" --epochs "$epochs"
    OMP_WAIT_POLICY="$omp_policy" /usr/bin/python3 benchmarks/metric/torch_epoch.py --threads "$t" --epochs "$epochs"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
