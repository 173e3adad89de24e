// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QTimer>
#include <QVariant>

namespace greygate {

// The console's typed settings registry (KeePassXC's shape): every setting is a Key with a
// stable name and a default, so a typo is a compile error and a default lives in one place.
// changed(key) is emitted only when a value really changes. Saving is debounced (many
// changes, e.g. a window being resized, make one write) and atomic (QSaveFile: a temporary
// file renamed over the old one), so a crash never leaves a half-written file.
//
// The file is JSON (a plain object, name -> value), not QSettings: it round-trips types
// exactly, it is one file we can save atomically, and tests use a temporary one.
// Secrets (proxy tokens) are not kept here: see TokenVault.
class Settings : public QObject
{
    Q_OBJECT

public:
    enum class Key
    {
        WindowGeometry, // QByteArray (QWidget::saveGeometry)
        WindowState,    // QByteArray (QMainWindow::saveState)
        SplitterStates, // map: splitter name -> QByteArray
        ColumnStates,   // map: table name -> QByteArray (QHeaderView::saveState)
        LastPage,       // the title-independent page key of the last page shown
        Scope,          // the proxy id chosen at the top; empty: all proxies
        Proxies,        // list of maps: id, name, url, pinnedSha256, tokenFile
        LocalEngineEnabled,
        LiveFollowTail,
        QueuePageSize,
    };
    Q_ENUM(Key)

    // path: the JSON file; it need not exist. saveDelayMs: the debounce of save().
    explicit Settings(QString path, int saveDelayMs = 500, QObject *parent = nullptr);
    ~Settings() override; // saves what is pending

    // <config dir>/greygate/console.json (QStandardPaths::AppConfigLocation).
    static QString defaultPath();
    static QString name(Key key);
    static QVariant defaultValue(Key key);

    QVariant value(Key key) const;
    // Returns true when the value changed (and changed(key) was emitted).
    bool setValue(Key key, const QVariant &value);
    void reset(Key key) { setValue(key, defaultValue(key)); }

    // One entry of a map setting (SplitterStates, ColumnStates).
    QVariant mapValue(Key key, const QString &entry) const;
    bool setMapValue(Key key, const QString &entry, const QVariant &value);

    QString path() const { return m_path; }
    // False with *error when the file exists but cannot be read or parsed; the defaults
    // are used then, and the damaged file is kept aside (<path>.damaged) at the next save.
    bool load(QString *error = nullptr);
    bool saveNow(QString *error = nullptr);
    bool hasPendingSave() const { return m_saveTimer.isActive(); }
    int saveCount() const { return m_saveCount; }

Q_SIGNALS:
    void changed(greygate::Settings::Key key);
    void saveFailed(const QString &error);

private:
    void scheduleSave();
    // Renamed keys from older versions, moved to their current name at load.
    static void migrate(QJsonObject &values);

    QString m_path;
    QVariantMap m_values; // by name; only values that differ from the default are kept
    QTimer m_saveTimer;
    bool m_damaged = false;
    int m_saveCount = 0;
};

} // namespace greygate
