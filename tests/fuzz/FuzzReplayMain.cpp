// SPDX-License-Identifier: GPL-3.0-or-later
// Without libFuzzer (gcc builds, CI's regular run) a fuzz target still runs: every seed of
// its corpus, then a bounded, deterministic set of mutations of each seed (bit flips,
// truncations, splices, repeated bytes). It catches regressions on known-hostile input in
// every test run; the real coverage-guided search is the libFuzzer build (GREYGATE_FUZZ=ON).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

std::vector<std::string> readSeeds(const std::filesystem::path &path)
{
    std::vector<std::string> seeds;
    auto readOne = [&seeds](const std::filesystem::path &file) {
        std::ifstream in(file, std::ios::binary);
        seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    if (std::filesystem::is_directory(path)) {
        for (const auto &entry : std::filesystem::directory_iterator(path))
            if (entry.is_regular_file())
                readOne(entry.path());
    } else {
        readOne(path);
    }
    return seeds;
}

void run(const std::string &input)
{
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()), input.size());
}

std::string mutate(const std::string &seed, const std::vector<std::string> &all, std::mt19937 &rng)
{
    std::string out = seed;
    const int steps = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < steps; ++i) {
        const size_t pos = out.empty() ? 0 : rng() % out.size();
        switch (rng() % 6) {
        case 0: // flip a bit
            if (!out.empty())
                out[pos] = static_cast<char>(out[pos] ^ (1 << (rng() % 8)));
            break;
        case 1: // truncate
            out.resize(pos);
            break;
        case 2: // insert a random byte
            out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<char>(rng()));
            break;
        case 3: { // splice a piece of another seed
            const std::string &other = all[rng() % all.size()];
            if (!other.empty()) {
                const size_t from = rng() % other.size();
                out.insert(pos, other.substr(from, rng() % 64));
            }
            break;
        }
        case 4: // repeat a byte many times (over-long lines and values)
            out.insert(pos, 1 + rng() % 20000, out.empty() ? 'A' : out[pos]);
            break;
        default: // erase a run
            out.erase(pos, rng() % 16);
            break;
        }
    }
    return out;
}

} // namespace

int main(int argc, char **argv)
{
    int mutationsPerSeed = 3000;
    std::vector<std::string> seeds;
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--mutations=", 12) == 0) {
            mutationsPerSeed = std::atoi(argv[i] + 12);
            continue;
        }
        auto more = readSeeds(argv[i]);
        seeds.insert(seeds.end(), more.begin(), more.end());
    }
    if (seeds.empty()) {
        std::fprintf(stderr, "usage: %s [--mutations=N] CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    std::mt19937 rng(20261126); // fixed: a failure reproduces exactly
    size_t runs = 0;
    for (const auto &seed : seeds) {
        run(seed);
        ++runs;
        for (int m = 0; m < mutationsPerSeed; ++m) {
            run(mutate(seed, seeds, rng));
            ++runs;
        }
    }
    std::printf("%zu inputs from %zu seeds, no failure\n", runs, seeds.size());
    return 0;
}
