// hnswlib peer for the HNSW benchmark: builds an HNSW graph over Fashion-MNIST's training split
// with hnswlib (the header-only library from Debian's libhnswlib-dev), then for each efSearch value
// measures recall@10 against exact ground truth and queries per second one query at a time.
//
// Build (benchmarks/hnsw.sh does this):
//   g++ -O3 -march=native -DNDEBUG -std=c++17 hnswlib_peer.cpp -lz -o hnswlib_peer
// Runs on one thread by default: hnswlib's addPoint and searchKnn run on the calling thread. With
// --threads N (N > 1) the build adds points from N std::threads and each row also gets batch_qps, all
// queries split into N contiguous slices searched in parallel; single_qps stays on one thread. Prints one JSON document whose rows follow the FAISS peer's row fields
// (family, index, params, recall_at_10, single_qps, build_s, index_bytes). Times are wall-clock
// (std::chrono::steady_clock).

#include <hnswlib/hnswlib.h>

#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
    std::string data_dir = "/usr/share/datasets/fashion-mnist";
    std::string ground_truth;  // empty: compute exact neighbors with hnswlib's brute-force index
    std::string out;           // empty: standard output
    std::string index_path = "/tmp/hnswlib-peer-index.bin";
    std::string hnswlib_version = "unknown";
    std::vector<int> ef_values = {16, 32, 64, 128, 256};
    int connectivity = 16;
    int ef_construction = 200;
    int seed = 100;
    int repeat = 1;
    int max_queries = 0;  // 0: every query
    int threads = 1;
};

[[noreturn]] void usage_error(const std::string& message) {
    throw std::invalid_argument(message + " Options: --data-dir DIR, --ground-truth FILE.ivecs, --out FILE, "
                                          "--index-path FILE, --ef N,N,..., --connectivity M, --ef-construction N, "
                                          "--seed N, --repeat N, --max-queries N, --threads N, --hnswlib-version TEXT.");
}

int parse_int(const std::string& name, const std::string& text, int minimum) {
    char* end = nullptr;
    long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || value < minimum || value > 1000000000)
        usage_error(name + " must be an integer of at least " + std::to_string(minimum) + ", got '" + text + "'.");
    return static_cast<int>(value);
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; i++) {
        std::string name = argv[i];
        if (i + 1 >= argc) usage_error(name + " needs a value.");
        std::string value = argv[++i];
        if (name == "--data-dir") options.data_dir = value;
        else if (name == "--ground-truth") options.ground_truth = value;
        else if (name == "--out") options.out = value;
        else if (name == "--index-path") options.index_path = value;
        else if (name == "--hnswlib-version") options.hnswlib_version = value;
        else if (name == "--connectivity") options.connectivity = parse_int(name, value, 2);
        else if (name == "--ef-construction") options.ef_construction = parse_int(name, value, 1);
        else if (name == "--seed") options.seed = parse_int(name, value, 0);
        else if (name == "--repeat") options.repeat = parse_int(name, value, 1);
        else if (name == "--threads") options.threads = parse_int(name, value, 1);
        else if (name == "--max-queries") options.max_queries = parse_int(name, value, 0);
        else if (name == "--ef") {
            options.ef_values.clear();
            std::stringstream parts(value);
            std::string part;
            while (std::getline(parts, part, ','))
                if (!part.empty()) options.ef_values.push_back(parse_int(name, part, 1));
            if (options.ef_values.empty()) usage_error("--ef needs at least one value.");
        } else {
            usage_error("Unknown option '" + name + "'.");
        }
    }
    return options;
}

// ---------------------------------------------------------------------------------------------
// Data

std::vector<unsigned char> read_gzip(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw std::runtime_error(path + ": cannot open (install dataset-fashion-mnist or pass --data-dir).");
    std::vector<unsigned char> bytes;
    unsigned char buffer[1 << 16];
    int got;
    while ((got = gzread(file, buffer, sizeof buffer)) > 0) bytes.insert(bytes.end(), buffer, buffer + got);
    int error = 0;
    const char* message = gzerror(file, &error);
    gzclose(file);
    if (got < 0 || (error != Z_OK && error != Z_STREAM_END))
        throw std::runtime_error(path + ": gzip read failed: " + message);
    return bytes;
}

uint32_t big_endian_u32(const unsigned char* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// Reads an IDX3 uint8 image file (magic 0x00000803) into row-major float32 pixels 0..255, the values
// `mlnet-retrieval bench` reads from the same file.
std::vector<float> read_idx_images(const std::string& path, size_t& count, size_t& dimension) {
    std::vector<unsigned char> bytes = read_gzip(path);
    if (bytes.size() < 16 || big_endian_u32(bytes.data()) != 0x00000803)
        throw std::runtime_error(path + ": not an IDX3 uint8 file (magic at offset 0 is not 0x00000803).");
    count = big_endian_u32(bytes.data() + 4);
    dimension = size_t(big_endian_u32(bytes.data() + 8)) * big_endian_u32(bytes.data() + 12);
    if (bytes.size() != 16 + count * dimension)
        throw std::runtime_error(path + ": expected " + std::to_string(16 + count * dimension) + " bytes for " +
                                 std::to_string(count) + " images, got " + std::to_string(bytes.size()) + ".");
    std::vector<float> values(count * dimension);
    for (size_t i = 0; i < values.size(); i++) values[i] = bytes[16 + i];
    return values;
}

// Reads k neighbor ids per query from an .ivecs file (each row: int32 k, then k int32 ids).
std::vector<int> read_ivecs(const std::string& path, size_t rows, size_t k) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::runtime_error(path + ": cannot open the ground-truth file.");
    std::vector<int> ids(rows * k);
    for (size_t row = 0; row < rows; row++) {
        int32_t width = 0;
        if (!file.read(reinterpret_cast<char*>(&width), 4))
            throw std::runtime_error(path + ": ends at row " + std::to_string(row) + ", expected " + std::to_string(rows) + " rows.");
        if (width < static_cast<int32_t>(k))
            throw std::runtime_error(path + ": row " + std::to_string(row) + " has " + std::to_string(width) +
                                     " ids, expected at least " + std::to_string(k) + ".");
        std::vector<int32_t> line(width);
        file.read(reinterpret_cast<char*>(line.data()), 4 * std::streamsize(width));
        if (!file) throw std::runtime_error(path + ": row " + std::to_string(row) + " is truncated.");
        std::copy(line.begin(), line.begin() + k, ids.begin() + row * k);
    }
    return ids;
}

// Exact k nearest neighbors (squared L2) with hnswlib's brute-force index, used when no ground-truth
// file is given. Its time on all 10,000 queries was not measured.
std::vector<int> exact_neighbors(const std::vector<float>& base, const std::vector<float>& queries, size_t d,
                                 size_t nb, size_t nq, size_t k, hnswlib::L2Space& space) {
    hnswlib::BruteforceSearch<float> exact(&space, nb);
    for (size_t i = 0; i < nb; i++) exact.addPoint(base.data() + i * d, i);
    std::vector<int> ids(nq * k);
    for (size_t q = 0; q < nq; q++) {
        auto heap = exact.searchKnn(queries.data() + q * d, k);
        for (size_t r = k; r-- > 0;) {
            ids[q * k + r] = static_cast<int>(heap.top().second);
            heap.pop();
        }
    }
    return ids;
}

// ---------------------------------------------------------------------------------------------
// JSON

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') { out += '\\'; out += char(c); }
        else if (c < 0x20) { char buffer[8]; std::snprintf(buffer, sizeof buffer, "\\u%04x", c); out += buffer; }
        else out += char(c);
    }
    return out + "\"";
}

std::string json_number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", value);
    return buffer;
}

std::string first_line(const std::string& path) {
    std::ifstream file(path);
    std::string line;
    std::getline(file, line);
    return line;
}

std::string cpu_model() {
    std::ifstream file("/proc/cpuinfo");
    std::string line;
    while (std::getline(file, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

bool cpu_has_flag(const std::string& flag) {
    std::ifstream file("/proc/cpuinfo");
    std::string line;
    while (std::getline(file, line))
        if (line.rfind("flags", 0) == 0) return (line + " ").find(" " + flag + " ") != std::string::npos;
    return false;
}

std::string utc_now() {
    std::time_t now = std::time(nullptr);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return buffer;
}

void log_progress(const std::string& message) { std::fprintf(stderr, "[hnswlib_peer] %s\n", message.c_str()); }

// ---------------------------------------------------------------------------------------------
// Benchmark

int run(int argc, char** argv) {
    Options options = parse_options(argc, argv);
    std::string loadavg_start = first_line("/proc/loadavg");
    std::string date_start = utc_now();
    const size_t k = 10;

    size_t nb = 0, d = 0, nq = 0, dq = 0;
    std::vector<float> base = read_idx_images(options.data_dir + "/train-images-idx3-ubyte.gz", nb, d);
    std::vector<float> queries = read_idx_images(options.data_dir + "/t10k-images-idx3-ubyte.gz", nq, dq);
    if (dq != d) throw std::runtime_error("The query images have dimension " + std::to_string(dq) + ", the base images " + std::to_string(d) + ".");
    size_t all_queries = nq;
    if (options.max_queries > 0) nq = std::min(nq, size_t(options.max_queries));

    hnswlib::L2Space space(d);
    std::vector<int> truth;
    if (options.ground_truth.empty()) {
        auto start = Clock::now();
        truth = exact_neighbors(base, queries, d, nb, nq, k, space);
        log_progress("exact ground truth in " + json_number(seconds_since(start)) + " s");
    } else {
        truth = read_ivecs(options.ground_truth, all_queries, k);
    }

    auto build_start = Clock::now();
    hnswlib::HierarchicalNSW<float> index(&space, nb, options.connectivity, options.ef_construction, options.seed);
    if (options.threads == 1) {
        for (size_t i = 0; i < nb; i++) index.addPoint(base.data() + i * d, i);
    } else {
        // addPoint is thread-safe in hnswlib; workers take the next point from a shared counter.
        std::atomic<size_t> next{0};
        std::vector<std::thread> workers;
        for (int t = 0; t < options.threads; t++)
            workers.emplace_back([&] {
                for (size_t i; (i = next.fetch_add(1)) < nb;) index.addPoint(base.data() + i * d, i);
            });
        for (auto& worker : workers) worker.join();
    }
    double build_seconds = seconds_since(build_start);
    log_progress("built M=" + std::to_string(options.connectivity) + " efConstruction=" + std::to_string(options.ef_construction) +
                 " in " + json_number(build_seconds) + " s");

    index.saveIndex(options.index_path);
    std::ifstream saved(options.index_path, std::ios::binary | std::ios::ate);
    long long index_bytes = saved ? static_cast<long long>(saved.tellg()) : -1;
    saved.close();
    std::remove(options.index_path.c_str());

    std::vector<std::string> rows;
    std::vector<size_t> found(nq * k);
    for (int ef : options.ef_values) {
        index.setEf(ef);
        // Warm-up on the first queries, as `mlnet-retrieval bench` does before it times.
        for (size_t q = 0; q < std::min<size_t>(nq, 16); q++) index.searchKnn(queries.data() + q * d, k);

        double best_seconds = 1e300;
        for (int pass = 0; pass < options.repeat; pass++) {
            auto start = Clock::now();
            for (size_t q = 0; q < nq; q++) {
                auto heap = index.searchKnn(queries.data() + q * d, k);
                for (size_t r = heap.size(); r-- > 0;) {
                    found[q * k + r] = heap.top().second;
                    heap.pop();
                }
            }
            best_seconds = std::min(best_seconds, seconds_since(start));
        }

        // recall@10: |found top 10 ∩ exact top 10| / 10, averaged over queries.
        size_t hits = 0;
        for (size_t q = 0; q < nq; q++) {
            std::unordered_set<int> expected(truth.begin() + q * k, truth.begin() + (q + 1) * k);
            for (size_t r = 0; r < k; r++) hits += expected.count(static_cast<int>(found[q * k + r]));
        }
        double recall = double(hits) / double(nq * k);
        double single_qps = nq / best_seconds;

        // Batch throughput on --threads threads: each searches one contiguous slice of the queries.
        double batch_qps = 0;
        if (options.threads > 1) {
            double best_batch = 1e300;
            for (int pass = 0; pass < options.repeat; pass++) {
                auto start = Clock::now();
                std::vector<std::thread> workers;
                for (int t = 0; t < options.threads; t++)
                    workers.emplace_back([&, t] {
                        size_t begin = nq * t / options.threads, end = nq * (t + 1) / options.threads;
                        for (size_t q = begin; q < end; q++) index.searchKnn(queries.data() + q * d, k);
                    });
                for (auto& worker : workers) worker.join();
                best_batch = std::min(best_batch, seconds_since(start));
            }
            batch_qps = nq / best_batch;
        }

        std::string row = "{\"family\": \"hnsw\", \"index\": " + json_string("HNSW" + std::to_string(options.connectivity)) +
                          ", \"params\": {\"ef\": " + std::to_string(ef) + ", \"M\": " + std::to_string(options.connectivity) +
                          ", \"efConstruction\": " + std::to_string(options.ef_construction) + "}" +
                          ", \"recall_at_10\": " + json_number(recall) + ", \"single_qps\": " + json_number(single_qps) +
                          ", \"single_queries\": " + std::to_string(nq) +
                          (options.threads > 1 ? ", \"batch_qps\": " + json_number(batch_qps) : std::string()) + ", \"build_s\": " + json_number(build_seconds) +
                          ", \"index_bytes\": " + std::to_string(index_bytes) + "}";
        rows.push_back(row);
        char line[160];
        std::snprintf(line, sizeof line, "ef %4d: recall@10 %.4f  single %8.0f QPS", ef, recall, single_qps);
        log_progress(line);
    }

    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::string machine = "{\"cpu_model\": " + json_string(cpu_model()) + ", \"cpu_avx2\": " + (cpu_has_flag("avx2") ? "true" : "false") +
                          ", \"cpu_avx512f\": " + (cpu_has_flag("avx512f") ? "true" : "false") +
                          ", \"hnswlib_version\": " + json_string(options.hnswlib_version) +
                          ", \"compiler\": " + json_string(__VERSION__) + ", \"loadavg_start\": " + json_string(loadavg_start) +
                          ", \"loadavg_end\": " + json_string(first_line("/proc/loadavg")) +
                          ", \"date_utc\": " + json_string(date_start) + "}";
    std::string document = "{\n  \"peer\": \"hnswlib\",\n  \"machine\": " + machine + ",\n  \"base_count\": " + std::to_string(nb) +
                           ",\n  \"query_count\": " + std::to_string(nq) + ",\n  \"dimension\": " + std::to_string(d) +
                           ",\n  \"k\": " + std::to_string(k) + ",\n  \"threads\": " + std::to_string(options.threads) + ",\n  \"repeat\": " + std::to_string(options.repeat) +
                           ",\n  \"peak_rss_kib\": " + std::to_string(usage.ru_maxrss) + ",\n  \"rows\": [\n    ";
    for (size_t i = 0; i < rows.size(); i++) document += (i ? ",\n    " : "") + rows[i];
    document += "\n  ]\n}\n";

    if (options.out.empty()) {
        std::fputs(document.c_str(), stdout);
    } else {
        std::ofstream out(options.out);
        out << document;
        if (!out) throw std::runtime_error(options.out + ": write failed.");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "hnswlib_peer: error: %s\n", error.what());
        return 1;
    }
}
