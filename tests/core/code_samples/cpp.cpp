// lru_cache.hpp - a small least-recently-used cache.
#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace cache {

constexpr std::size_t kDefaultCapacity = 128;

/// Maps keys to values, evicting the least recently used entry when full.
template <typename K, typename V>
class LruCache {
 public:
  explicit LruCache(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  /// Inserts or replaces `key`; evicts the oldest entry if full.
  void put(const K& key, V value) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      order_.erase(it->second);
    } else if (order_.size() == capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
  }

  /// The value for `key`, marking it recently used.
  std::optional<V> get(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

 private:
  std::size_t capacity_;
  std::list<std::pair<K, V>> order_;
  std::unordered_map<K, typename std::list<std::pair<K, V>>::iterator> index_;
};

}  // namespace cache
