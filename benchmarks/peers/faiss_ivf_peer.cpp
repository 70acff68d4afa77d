// FAISS peer for the compressed-search benchmarks: IVF-Flat, IVF-PQ (with and without exact
// re-ranking), exhaustive PQ, IVF-PQ fast scan and k-means on Fashion-MNIST, plus an optional
// IVF-PQ run on one million synthetic vectors (--scale).
//
// Built by build_faiss_avx2.sh against FAISS 1.7.3 compiled with FAISS_OPT_LEVEL=avx2. Prints one
// JSON document (schema in faiss-avx2-reference.md). Runs single-threaded unless --threads N.
// Times are wall-clock (std::chrono::steady_clock).

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/utils/utils.h>

#include <omp.h>
#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

// OpenBLAS query and control functions (declared in OpenBLAS's cblas.h, which Debian keeps in a
// per-variant include folder, so they are declared here to avoid depending on that path).
extern "C" {
void openblas_set_num_threads(int num_threads);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace {

using Clock = std::chrono::steady_clock;
using idx_t = faiss::Index::idx_t;  // FAISS 1.7.3 has no namespace-level faiss::idx_t

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
    std::string data_dir = "/usr/share/datasets/fashion-mnist";
    std::string out_path;
    std::string ground_truth_path;
    std::set<std::string> families = {"ivfflat", "ivfpq", "pq", "fastscan", "kmeans"};
    int threads = 1;
    int repeat = 3;
    int single_queries = 0;  // 0 = all queries
    bool scale = false;
    bool machine_only = false;
    int scale_points = 1000000;
};

const char* kUsage =
        "usage: faiss_ivf_peer [options]\n"
        "  --data DIR            folder with {train,t10k}-images-idx3-ubyte.gz\n"
        "                        (default /usr/share/datasets/fashion-mnist)\n"
        "  --only LIST           comma-separated families: ivfflat,ivfpq,pq,fastscan,kmeans,scale\n"
        "                        (default: all but scale)\n"
        "  --scale               also run the 1,000,000-vector synthetic IVF-PQ run\n"
        "  --scale-points N      base size of the synthetic run (default 1000000)\n"
        "  --threads N           OpenMP and OpenBLAS threads for build and search (default 1)\n"
        "  --repeat N            timed batch searches per setting; the best is reported (default 3)\n"
        "  --single-queries N    queries timed one at a time (default 0 = all)\n"
        "  --ground-truth PATH   Fashion-MNIST k=10 ground truth as .ivecs: read if it exists,\n"
        "                        otherwise computed and written there\n"
        "  --out FILE            write the JSON document to FILE instead of stdout\n"
        "  --machine-only        print only the machine object (CPU, FAISS and OpenBLAS build, core) and exit\n";

std::set<std::string> split_list(const std::string& text) {
    std::set<std::string> items;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        if (!item.empty()) items.insert(item);
    }
    return items;
}

int parse_positive(const std::string& name, const std::string& value) {
    char* end = nullptr;
    long parsed = std::strtol(value.c_str(), &end, 10);
    if (end == value.c_str() || *end != '\0' || parsed < 0 || parsed > 1000000000) {
        throw std::invalid_argument(name + " expects a non-negative integer, got '" + value + "'");
    }
    return static_cast<int>(parsed);
}

Options parse_options(int argc, char** argv) {
    Options options;
    const std::set<std::string> known = {"ivfflat", "ivfpq", "pq", "fastscan", "kmeans", "scale"};
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(arg + " is missing its value");
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (arg == "--data") {
            options.data_dir = value();
        } else if (arg == "--out") {
            options.out_path = value();
        } else if (arg == "--ground-truth") {
            options.ground_truth_path = value();
        } else if (arg == "--only") {
            options.families = split_list(value());
            for (const auto& family : options.families) {
                if (!known.count(family)) {
                    throw std::invalid_argument("--only: unknown family '" + family +
                                                "'; valid: ivfflat,ivfpq,pq,fastscan,kmeans,scale");
                }
            }
            if (options.families.count("scale")) options.scale = true;
        } else if (arg == "--machine-only") {
            options.machine_only = true;
        } else if (arg == "--scale") {
            options.scale = true;
        } else if (arg == "--scale-points") {
            options.scale_points = parse_positive(arg, value());
        } else if (arg == "--threads") {
            options.threads = std::max(1, parse_positive(arg, value()));
        } else if (arg == "--repeat") {
            options.repeat = std::max(1, parse_positive(arg, value()));
        } else if (arg == "--single-queries") {
            options.single_queries = parse_positive(arg, value());
        } else {
            throw std::invalid_argument("unknown option '" + arg + "'; run with --help");
        }
    }
    return options;
}

void set_threads(int threads) {
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
}

// ---------------------------------------------------------------------------------------------
// Minimal JSON writer: objects are built as strings, which is enough for a flat report.

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buffer[8];
                    std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                    out += buffer;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

std::string json_number(double value) {
    if (!std::isfinite(value)) return "null";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", value);
    return buffer;
}

class JsonObject {
public:
    JsonObject& add(const std::string& key, const std::string& raw_json) {
        fields_.push_back(json_string(key) + ": " + raw_json);
        return *this;
    }
    JsonObject& str(const std::string& key, const std::string& value) { return add(key, json_string(value)); }
    JsonObject& num(const std::string& key, double value) { return add(key, json_number(value)); }
    JsonObject& integer(const std::string& key, long long value) { return add(key, std::to_string(value)); }
    JsonObject& boolean(const std::string& key, bool value) { return add(key, value ? "true" : "false"); }
    std::string text() const {
        std::string out = "{";
        for (size_t i = 0; i < fields_.size(); i++) out += (i ? ", " : "") + fields_[i];
        return out + "}";
    }

private:
    std::vector<std::string> fields_;
};

std::string json_array(const std::vector<std::string>& raw_items, const char* separator = ", ") {
    std::string out = "[";
    for (size_t i = 0; i < raw_items.size(); i++) out += (i ? separator : "") + raw_items[i];
    return out + "]";
}

std::string json_numbers(const std::vector<double>& values) {
    std::vector<std::string> items;
    for (double v : values) items.push_back(json_number(v));
    return json_array(items);
}

// ---------------------------------------------------------------------------------------------
// Data

struct Dataset {
    size_t d = 0;
    size_t nb = 0;
    size_t nq = 0;
    std::vector<float> base;
    std::vector<float> queries;
};

std::vector<unsigned char> read_gzip(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw std::runtime_error("cannot open " + path + " (check --data)");
    std::vector<unsigned char> bytes;
    unsigned char buffer[1 << 16];
    int got;
    while ((got = gzread(file, buffer, sizeof buffer)) > 0) bytes.insert(bytes.end(), buffer, buffer + got);
    int error = 0;
    const char* message = gzerror(file, &error);
    gzclose(file);
    if (got < 0 || error < 0) throw std::runtime_error("failed to decompress " + path + ": " + message);
    return bytes;
}

uint32_t read_big_endian(const unsigned char* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// Reads an IDX3 uint8 image file (magic 0x00000803) into row-major float32 pixels 0..255.
std::vector<float> read_idx_images(const std::string& path, size_t& count, size_t& dimension) {
    std::vector<unsigned char> bytes = read_gzip(path);
    if (bytes.size() < 16 || read_big_endian(bytes.data()) != 0x00000803) {
        throw std::runtime_error(path + ": not an IDX3 uint8 image file (magic at offset 0 is not 0x00000803)");
    }
    count = read_big_endian(bytes.data() + 4);
    dimension = size_t(read_big_endian(bytes.data() + 8)) * read_big_endian(bytes.data() + 12);
    if (bytes.size() != 16 + count * dimension) {
        throw std::runtime_error(path + ": header gives " + std::to_string(count) + " x " +
                                 std::to_string(dimension) + " pixels but the payload has " +
                                 std::to_string(bytes.size() - 16) + " bytes");
    }
    std::vector<float> pixels(count * dimension);
    for (size_t i = 0; i < pixels.size(); i++) pixels[i] = bytes[16 + i];
    return pixels;
}

Dataset load_fashion_mnist(const std::string& dir) {
    Dataset data;
    size_t dq = 0;
    data.base = read_idx_images(dir + "/train-images-idx3-ubyte.gz", data.nb, data.d);
    data.queries = read_idx_images(dir + "/t10k-images-idx3-ubyte.gz", data.nq, dq);
    if (dq != data.d) throw std::runtime_error("train and test images differ in size");
    return data;
}

// Synthetic clustered data for --scale, specified so another language can reproduce it:
//
//   splitmix64: state += 0x9E3779B97F4A7C15; z = state;
//               z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
//               return z ^ (z >> 31)                       (all arithmetic mod 2^64)
//   uniform():  (next() >> 11) * 2^-53, a double in [0, 1)
//   normal pair (Box-Muller, double): u1 = 1 - uniform() in (0, 1], u2 = uniform();
//               r = sqrt(-2 ln u1); z0 = r cos(2 pi u2), z1 = r sin(2 pi u2); z0 is used first.
//
//   Three independent generators with seeds 1234 (centres), 1235 (base), 1236 (queries).
//   Centres: 1000 x 128 values uniform() in row-major order, kept as double.
//   Each point (base, then queries from their own generator): c = next() % 1000, then 64 normal
//   pairs giving components j = 0..127 in order; component j = (float)(centre[c][j] + 0.1 * z_j),
//   with the sum in double and one rounding to float.
// NOTE: cos, sin and log come from the C library, and another runtime may differ in the last bit of
// a double. Such a difference changes a float component only when the double is on a float rounding
// boundary.
struct SplitMix64 {
    uint64_t state;
    explicit SplitMix64(uint64_t seed) : state(seed) {}
    uint64_t next() {
        state += 0x9E3779B97F4A7C15ULL;
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
};

constexpr size_t kScaleDimension = 128;
constexpr size_t kScaleCentres = 1000;
constexpr double kScaleSigma = 0.1;

std::vector<float> generate_clustered(const std::vector<double>& centres, size_t count, uint64_t seed) {
    SplitMix64 rng(seed);
    std::vector<float> points(count * kScaleDimension);
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t i = 0; i < count; i++) {
        const double* centre = centres.data() + (rng.next() % kScaleCentres) * kScaleDimension;
        float* point = points.data() + i * kScaleDimension;
        for (size_t j = 0; j < kScaleDimension; j += 2) {
            double u1 = 1.0 - rng.uniform();
            double u2 = rng.uniform();
            double r = std::sqrt(-2.0 * std::log(u1));
            point[j] = float(centre[j] + kScaleSigma * (r * std::cos(two_pi * u2)));
            point[j + 1] = float(centre[j + 1] + kScaleSigma * (r * std::sin(two_pi * u2)));
        }
    }
    return points;
}

Dataset generate_scale_dataset(size_t nb, size_t nq) {
    SplitMix64 centre_rng(1234);
    std::vector<double> centres(kScaleCentres * kScaleDimension);
    for (double& value : centres) value = centre_rng.uniform();
    Dataset data;
    data.d = kScaleDimension;
    data.nb = nb;
    data.nq = nq;
    data.base = generate_clustered(centres, nb, 1235);
    data.queries = generate_clustered(centres, nq, 1236);
    return data;
}

// ---------------------------------------------------------------------------------------------
// Ground truth

// Exact k-NN: IndexFlatL2 (float32, BLAS expansion ||x||^2 + ||y||^2 - 2 x.y) proposes k + 10
// candidates, which are re-ranked by the squared L2 distance summed in double, ties to the lower id.
// The float32 pass only decides the candidate set, so an error there matters only if a true
// neighbour falls below rank k + 10.
std::vector<idx_t> exact_knn(const Dataset& data, size_t k) {
    const size_t candidates = std::min(data.nb, k + 10);
    faiss::IndexFlatL2 flat(data.d);
    flat.add(data.nb, data.base.data());
    std::vector<float> distances(data.nq * candidates);
    std::vector<idx_t> labels(data.nq * candidates);
    flat.search(data.nq, data.queries.data(), candidates, distances.data(), labels.data());

    std::vector<idx_t> truth(data.nq * k);
    std::vector<std::pair<double, idx_t>> ranked(candidates);
    for (size_t q = 0; q < data.nq; q++) {
        const float* query = data.queries.data() + q * data.d;
        for (size_t c = 0; c < candidates; c++) {
            idx_t id = labels[q * candidates + c];
            const float* vector = data.base.data() + size_t(id) * data.d;
            double sum = 0;
            for (size_t j = 0; j < data.d; j++) {
                double diff = double(query[j]) - double(vector[j]);
                sum += diff * diff;
            }
            ranked[c] = {sum, id};
        }
        std::sort(ranked.begin(), ranked.end());
        for (size_t i = 0; i < k; i++) truth[q * k + i] = ranked[i].second;
    }
    return truth;
}

bool read_ivecs(const std::string& path, size_t rows, size_t k, std::vector<idx_t>& truth) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return false;
    truth.assign(rows * k, -1);
    for (size_t r = 0; r < rows; r++) {
        int32_t width = 0;
        if (!file.read(reinterpret_cast<char*>(&width), 4) || width < int32_t(k)) {
            throw std::runtime_error(path + ": row " + std::to_string(r) + " is missing or has fewer than " +
                                     std::to_string(k) + " ids");
        }
        std::vector<int32_t> ids(width);
        if (!file.read(reinterpret_cast<char*>(ids.data()), 4 * std::streamsize(width))) {
            throw std::runtime_error(path + ": row " + std::to_string(r) + " is truncated");
        }
        for (size_t i = 0; i < k; i++) truth[r * k + i] = ids[i];
    }
    return true;
}

void write_ivecs(const std::string& path, size_t rows, size_t k, const std::vector<idx_t>& truth) {
    std::ofstream file(path, std::ios::binary);
    int32_t width = int32_t(k);
    for (size_t r = 0; r < rows; r++) {
        file.write(reinterpret_cast<const char*>(&width), 4);
        for (size_t i = 0; i < k; i++) {
            int32_t id = int32_t(truth[r * k + i]);
            file.write(reinterpret_cast<const char*>(&id), 4);
        }
    }
    if (!file) throw std::runtime_error("failed to write ground truth to " + path);
}

// |found top-r ∩ truth top-r| / (nq * r): the share of the r true nearest neighbours returned
// among the first r results.
double recall_at(const std::vector<idx_t>& found, size_t found_k, const std::vector<idx_t>& truth,
                 size_t truth_k, size_t nq, size_t r) {
    size_t hits = 0;
    for (size_t q = 0; q < nq; q++) {
        std::vector<idx_t> expected(truth.begin() + q * truth_k, truth.begin() + q * truth_k + r);
        std::sort(expected.begin(), expected.end());
        for (size_t i = 0; i < r; i++) {
            if (std::binary_search(expected.begin(), expected.end(), found[q * found_k + i])) hits++;
        }
    }
    return double(hits) / double(nq * r);
}

// FAISS's "1-recall@r": the share of queries whose true nearest neighbour is among the first r results.
double one_recall_at(const std::vector<idx_t>& found, size_t found_k, const std::vector<idx_t>& truth,
                     size_t truth_k, size_t nq, size_t r) {
    size_t hits = 0;
    for (size_t q = 0; q < nq; q++) {
        const idx_t* row = found.data() + q * found_k;
        if (std::find(row, row + r, truth[q * truth_k]) != row + r) hits++;
    }
    return double(hits) / double(nq);
}

// ---------------------------------------------------------------------------------------------
// Measurements

size_t serialized_bytes(const faiss::Index& index) {
    faiss::VectorIOWriter writer;
    faiss::write_index(&index, &writer);
    return writer.data.size();
}

struct SearchResult {
    std::vector<idx_t> labels;
    std::vector<double> batch_seconds;  // one per repeat
    double single_seconds = 0;          // best total over the single-query loops
    size_t single_count = 0;
};

// Times `repeat` batch searches (one call over all queries) after a 100-query warm-up, then
// `repeat` loops of one-query calls over the first `single_queries` queries, timing each call.
SearchResult time_search(const faiss::Index& index, const Dataset& data, size_t k, const Options& options,
                         bool single) {
    SearchResult result;
    result.labels.resize(data.nq * k);
    std::vector<float> distances(data.nq * k);
    index.search(std::min<size_t>(100, data.nq), data.queries.data(), k, distances.data(), result.labels.data());
    for (int r = 0; r < options.repeat; r++) {
        auto start = Clock::now();
        index.search(data.nq, data.queries.data(), k, distances.data(), result.labels.data());
        result.batch_seconds.push_back(seconds_since(start));
    }
    if (!single) return result;

    result.single_count = options.single_queries > 0 ? std::min<size_t>(options.single_queries, data.nq) : data.nq;
    std::vector<float> one_distance(k);
    std::vector<idx_t> one_label(k);
    result.single_seconds = INFINITY;
    for (int r = 0; r < options.repeat; r++) {
        double total = 0;
        for (size_t q = 0; q < result.single_count; q++) {
            auto start = Clock::now();
            index.search(1, data.queries.data() + q * data.d, k, one_distance.data(), one_label.data());
            total += seconds_since(start);
        }
        result.single_seconds = std::min(result.single_seconds, total);
    }
    return result;
}

double best(const std::vector<double>& values) { return *std::min_element(values.begin(), values.end()); }

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

struct Report {
    std::vector<std::string> rows;
    std::vector<std::string> kmeans;
    std::vector<std::string> scale;
};

void log_progress(const std::string& message) {
    std::fprintf(stderr, "[faiss_ivf_peer] %s\n", message.c_str());
    std::fflush(stderr);
}

// Searches `index` with k = 10 and appends one row. `params` is raw JSON describing the setting.
void measure_row(Report& report, const std::string& family, const std::string& name, const std::string& params,
                 const faiss::Index& index, const Dataset& data, const std::vector<idx_t>& truth,
                 const Options& options, double build_seconds, size_t index_bytes) {
    const size_t k = 10;
    SearchResult result = time_search(index, data, k, options, true);
    double recall = recall_at(result.labels, k, truth, k, data.nq, k);
    double batch_qps = data.nq / best(result.batch_seconds);
    double single_qps = result.single_count / result.single_seconds;
    JsonObject row;
    row.str("family", family)
            .str("index", name)
            .add("params", params)
            .num("recall_at_10", recall)
            .num("batch_qps", batch_qps)
            .num("batch_qps_median", data.nq / median(result.batch_seconds))
            .num("single_qps", single_qps)
            .integer("single_queries", (long long)result.single_count)
            .num("build_s", build_seconds)
            .integer("index_bytes", (long long)index_bytes)
            .add("batch_seconds", json_numbers(result.batch_seconds));
    report.rows.push_back(row.text());
    char line[256];
    std::snprintf(line, sizeof line, "%-28s %-34s recall@10 %.4f  batch %8.0f QPS  single %8.0f QPS", name.c_str(),
                  params.c_str(), recall, batch_qps, single_qps);
    log_progress(line);
}

const std::vector<int> kNprobes = {1, 2, 4, 8, 16, 32, 64};

std::string nprobe_params(int nprobe) { return JsonObject().integer("nprobe", nprobe).text(); }

// ---------------------------------------------------------------------------------------------
// Families

void run_ivfflat(Report& report, const Dataset& data, const std::vector<idx_t>& truth, const Options& options) {
    const size_t nlist = 1024;
    faiss::IndexFlatL2 quantizer(data.d);
    faiss::IndexIVFFlat index(&quantizer, data.d, nlist);
    auto start = Clock::now();
    index.train(data.nb, data.base.data());
    index.add(data.nb, data.base.data());
    double build = seconds_since(start);
    size_t bytes = serialized_bytes(index);
    for (int nprobe : kNprobes) {
        index.nprobe = nprobe;
        measure_row(report, "ivfflat", "IVF1024,Flat", nprobe_params(nprobe), index, data, truth, options, build,
                    bytes);
    }
}

void run_ivfpq(Report& report, const Dataset& data, const std::vector<idx_t>& truth, const Options& options) {
    const size_t nlist = 1024;
    for (size_t m : {size_t(16), size_t(56)}) {
        faiss::IndexFlatL2 quantizer(data.d);
        faiss::IndexIVFPQ index(&quantizer, data.d, nlist, m, 8);
        index.by_residual = true;
        index.do_polysemous_training = false;
        auto start = Clock::now();
        index.train(data.nb, data.base.data());
        index.add(data.nb, data.base.data());
        double build = seconds_since(start);
        size_t bytes = serialized_bytes(index);
        std::string name = "IVF1024,PQ" + std::to_string(m);
        for (int nprobe : kNprobes) {
            index.nprobe = nprobe;
            measure_row(report, "ivfpq", name, nprobe_params(nprobe), index, data, truth, options, build, bytes);
        }

        // Re-ranking wrapper: adds only the raw vectors to its IndexFlat, the base index is already filled.
        start = Clock::now();
        faiss::IndexRefineFlat refine(&index, data.base.data());
        refine.k_factor = 10;
        double refine_build = build + seconds_since(start);
        size_t refine_bytes = serialized_bytes(refine);
        for (int nprobe : kNprobes) {
            index.nprobe = nprobe;
            std::string params = JsonObject().integer("nprobe", nprobe).num("k_factor", 10).text();
            measure_row(report, "ivfpq", name + ",RFlat", params, refine, data, truth, options, refine_build,
                        refine_bytes);
        }
    }
}

void run_pq(Report& report, const Dataset& data, const std::vector<idx_t>& truth, const Options& options) {
    faiss::IndexPQ index(data.d, 16, 8);
    index.do_polysemous_training = false;
    auto start = Clock::now();
    index.train(data.nb, data.base.data());
    index.add(data.nb, data.base.data());
    double build = seconds_since(start);
    measure_row(report, "pq", "PQ16", "{}", index, data, truth, options, build, serialized_bytes(index));
}

void run_fastscan(Report& report, const Dataset& data, const std::vector<idx_t>& truth, const Options& options) {
    faiss::IndexFlatL2 quantizer(data.d);
    faiss::IndexIVFPQFastScan index(&quantizer, data.d, 1024, 16, 4);
    index.by_residual = false;
    auto start = Clock::now();
    index.train(data.nb, data.base.data());
    index.add(data.nb, data.base.data());
    double build = seconds_since(start);
    size_t bytes = serialized_bytes(index);
    const std::vector<int> nprobes = {1, 8, 64};
    for (int nprobe : nprobes) {
        index.nprobe = nprobe;
        measure_row(report, "fastscan", "IVF1024,PQ16x4fs", nprobe_params(nprobe), index, data, truth, options,
                    build, bytes);
    }
    start = Clock::now();
    faiss::IndexRefineFlat refine(&index, data.base.data());
    refine.k_factor = 10;
    double refine_build = build + seconds_since(start);
    size_t refine_bytes = serialized_bytes(refine);
    for (int nprobe : nprobes) {
        index.nprobe = nprobe;
        std::string params = JsonObject().integer("nprobe", nprobe).num("k_factor", 10).text();
        measure_row(report, "fastscan", "IVF1024,PQ16x4fs,RFlat", params, refine, data, truth, options,
                    refine_build, refine_bytes);
    }
}

void run_kmeans(Report& report, const Dataset& data, const Options& options) {
    for (int threads : {1, 2}) {
        set_threads(threads);
        for (int r = 0; r < options.repeat; r++) {
            faiss::ClusteringParameters cp;
            cp.niter = 20;
            cp.seed = 1234;
            faiss::Clustering clustering(int(data.d), 1024, cp);
            faiss::IndexFlatL2 assigner(data.d);
            auto start = Clock::now();
            clustering.train(data.nb, data.base.data(), assigner);
            double seconds = seconds_since(start);
            double objective = clustering.iteration_stats.back().obj;
            JsonObject row;
            row.str("family", "kmeans")
                    .integer("d", (long long)data.d)
                    .integer("k", 1024)
                    .integer("niter", cp.niter)
                    .integer("seed", cp.seed)
                    .integer("n", (long long)data.nb)
                    .integer("threads", threads)
                    .integer("repeat_index", r)
                    .num("seconds", seconds)
                    .num("objective", objective);
            report.kmeans.push_back(row.text());
            char line[160];
            std::snprintf(line, sizeof line, "k-means threads %d: %.2f s, objective %.6g", threads, seconds, objective);
            log_progress(line);
        }
    }
    set_threads(options.threads);
}

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;  // KiB on Linux
}

void run_scale(Report& report, const Options& options) {
    const size_t nq = 10000;
    const size_t k = 100;
    auto start = Clock::now();
    Dataset data = generate_scale_dataset(options.scale_points, nq);
    double generate_seconds = seconds_since(start);
    log_progress("scale: generated " + std::to_string(data.nb) + " base vectors in " + json_number(generate_seconds) + " s");

    start = Clock::now();
    std::vector<idx_t> truth = exact_knn(data, k);
    double truth_seconds = seconds_since(start);
    log_progress("scale: ground truth k=100 in " + json_number(truth_seconds) + " s");

    // exact_knn's IndexFlat copy of the base is freed by now, but the peak RSS that getrusage reports
    // still counts it, so the level before the build is recorded as well.
    faiss::IndexFlatL2 quantizer(data.d);
    faiss::IndexIVFPQ index(&quantizer, data.d, 4096, 16, 8);
    index.by_residual = true;
    index.do_polysemous_training = false;
    long rss_before_build = peak_rss_kib();
    start = Clock::now();
    index.train(data.nb, data.base.data());
    double train_seconds = seconds_since(start);
    index.add(data.nb, data.base.data());
    double build_seconds = seconds_since(start);
    size_t bytes = serialized_bytes(index);
    log_progress("scale: IVF4096,PQ16 built in " + json_number(build_seconds) + " s");

    for (int nprobe : kNprobes) {
        index.nprobe = nprobe;
        SearchResult result = time_search(index, data, k, options, false);
        JsonObject row;
        row.str("family", "scale")
                .str("index", "IVF4096,PQ16")
                .add("params", nprobe_params(nprobe))
                .num("recall_at_1", recall_at(result.labels, k, truth, k, nq, 1))
                .num("recall_at_10", recall_at(result.labels, k, truth, k, nq, 10))
                .num("recall_at_100", recall_at(result.labels, k, truth, k, nq, 100))
                .num("one_recall_at_1", one_recall_at(result.labels, k, truth, k, nq, 1))
                .num("one_recall_at_10", one_recall_at(result.labels, k, truth, k, nq, 10))
                .num("one_recall_at_100", one_recall_at(result.labels, k, truth, k, nq, 100))
                .num("batch_qps", nq / best(result.batch_seconds))
                .num("batch_qps_median", nq / median(result.batch_seconds))
                .integer("search_k", (long long)k)
                .num("build_s", build_seconds)
                .num("train_s", train_seconds)
                .integer("index_bytes", (long long)bytes)
                .num("bytes_per_vector", double(bytes) / double(data.nb))
                .add("batch_seconds", json_numbers(result.batch_seconds));
        report.scale.push_back(row.text());
        char line[200];
        std::snprintf(line, sizeof line, "scale nprobe %2d: recall@1 %.4f @10 %.4f @100 %.4f  %8.0f QPS", nprobe,
                      recall_at(result.labels, k, truth, k, nq, 1), recall_at(result.labels, k, truth, k, nq, 10),
                      recall_at(result.labels, k, truth, k, nq, 100), nq / best(result.batch_seconds));
        log_progress(line);
    }
    JsonObject summary;
    summary.str("family", "scale_summary")
            .integer("n", (long long)data.nb)
            .integer("nq", (long long)nq)
            .integer("d", (long long)data.d)
            .str("generator", "splitmix64 seeds 1234/1235/1236, 1000 uniform [0,1) centres, sigma 0.1, Box-Muller")
            .num("generate_s", generate_seconds)
            .num("ground_truth_s", truth_seconds)
            .num("train_s", train_seconds)
            .num("build_s", build_seconds)
            .integer("index_bytes", (long long)bytes)
            .num("bytes_per_vector", double(bytes) / double(data.nb))
            .integer("peak_rss_kib_before_build", rss_before_build)
            .integer("peak_rss_kib", peak_rss_kib());
    report.scale.push_back(summary.text());
}

// ---------------------------------------------------------------------------------------------
// Machine description

std::string cpu_model() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    }
    return "unknown";
}

bool cpu_has_flag(const std::string& flag) {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("flags", 0) == 0) return (line + " ").find(" " + flag + " ") != std::string::npos;
    }
    return false;
}

std::string first_line(const char* path) {
    std::ifstream file(path);
    std::string line;
    std::getline(file, line);
    return line;
}

std::string env_or_null(const char* name) {
    const char* value = std::getenv(name);
    return value ? json_string(value) : "null";
}

std::string utc_now() {
    std::time_t now = std::time(nullptr);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return buffer;
}

std::string machine_json() {
    JsonObject machine;
    machine.str("cpu_model", cpu_model())
            .boolean("cpu_avx2", cpu_has_flag("avx2"))
            .boolean("cpu_avx512f", cpu_has_flag("avx512f"))
            .integer("omp_num_procs", omp_get_num_procs())
            .str("faiss_version", std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) +
                                          "." + std::to_string(FAISS_VERSION_PATCH))
            .str("faiss_compile_options", faiss::get_compile_options())
            .str("compiler", __VERSION__)
            .str("openblas_config", openblas_get_config())
            .str("openblas_core", openblas_get_corename())
            .add("OPENBLAS_CORETYPE", env_or_null("OPENBLAS_CORETYPE"))
            .add("OPENBLAS_L2_SIZE", env_or_null("OPENBLAS_L2_SIZE"))
            .add("OPENBLAS_NUM_THREADS", env_or_null("OPENBLAS_NUM_THREADS"))
            .add("OMP_NUM_THREADS", env_or_null("OMP_NUM_THREADS"))
            .str("loadavg_start", first_line("/proc/loadavg"))
            .str("date_utc", utc_now());
    return machine.text();
}

int run(int argc, char** argv) {
    Options options = parse_options(argc, argv);
    set_threads(options.threads);
    std::string machine = machine_json();
    if (options.machine_only) {
        std::fputs((machine + "\n").c_str(), stdout);
        return 0;
    }
    Report report;
    auto total_start = Clock::now();

    const std::set<std::string> fashion = {"ivfflat", "ivfpq", "pq", "fastscan", "kmeans"};
    bool need_fashion = std::any_of(fashion.begin(), fashion.end(),
                                    [&](const std::string& f) { return options.families.count(f) > 0; });
    double truth_seconds = 0;
    bool truth_loaded = false;
    if (need_fashion) {
        Dataset data = load_fashion_mnist(options.data_dir);
        log_progress("loaded Fashion-MNIST: " + std::to_string(data.nb) + " base, " + std::to_string(data.nq) +
                     " queries, d = " + std::to_string(data.d));
        std::vector<idx_t> truth;
        bool need_truth = options.families.size() > options.families.count("kmeans") + options.families.count("scale");
        if (need_truth) {
            auto start = Clock::now();
            truth_loaded = !options.ground_truth_path.empty() &&
                           read_ivecs(options.ground_truth_path, data.nq, 10, truth);
            if (!truth_loaded) {
                truth = exact_knn(data, 10);
                if (!options.ground_truth_path.empty()) write_ivecs(options.ground_truth_path, data.nq, 10, truth);
            }
            truth_seconds = seconds_since(start);
            log_progress(std::string(truth_loaded ? "read" : "computed") + " ground truth in " +
                         json_number(truth_seconds) + " s");
        }
        if (options.families.count("ivfflat")) run_ivfflat(report, data, truth, options);
        if (options.families.count("ivfpq")) run_ivfpq(report, data, truth, options);
        if (options.families.count("pq")) run_pq(report, data, truth, options);
        if (options.families.count("fastscan")) run_fastscan(report, data, truth, options);
        if (options.families.count("kmeans")) run_kmeans(report, data, options);
    }
    if (options.scale) run_scale(report, options);

    std::vector<std::string> family_names(options.families.begin(), options.families.end());
    for (auto& f : family_names) f = json_string(f);
    JsonObject settings;
    settings.str("dataset", "fashion-mnist")
            .str("data_dir", options.data_dir)
            .integer("k", 10)
            .str("metric", "squared L2")
            .integer("threads", options.threads)
            .integer("repeat", options.repeat)
            .integer("single_queries", options.single_queries)
            .add("families", json_array(family_names))
            .boolean("scale", options.scale)
            .integer("scale_points", options.scale_points)
            .str("ground_truth", truth_loaded ? "read from " + options.ground_truth_path
                                              : "IndexFlatL2 top-20 re-ranked in double")
            .num("ground_truth_s", truth_seconds)
            .str("batch_qps", "queries / best wall time of one search call over all queries")
            .str("single_qps", "queries / sum of wall times of one-query search calls (best loop)");

    JsonObject document;
    document.str("peer", "faiss_ivf_peer")
            .add("machine", machine)
            .add("settings", settings.text())
            .add("rows", json_array(report.rows, ",\n    "))
            .add("kmeans", json_array(report.kmeans, ",\n    "))
            .add("scale", json_array(report.scale, ",\n    "))
            .num("total_s", seconds_since(total_start))
            .str("loadavg_end", first_line("/proc/loadavg"));
    std::string text = document.text() + "\n";

    if (options.out_path.empty()) {
        std::fputs(text.c_str(), stdout);
    } else {
        std::ofstream out(options.out_path);
        out << text;
        if (!out) throw std::runtime_error("failed to write " + options.out_path);
        log_progress("wrote " + options.out_path);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "faiss_ivf_peer: error: %s\n", error.what());
        return 1;
    }
}
