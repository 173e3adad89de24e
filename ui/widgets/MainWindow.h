// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMainWindow>

class QListWidget;
class QMenu;
class QStackedWidget;

namespace greygate {

class Page;
class ProxyRegistry;
class ProxyStatusBar;
class ScopeSelector;
class Settings;

// The console's frame (DESIGN.md §6): the navigation list on the left with every page, the
// scope selector at the top, the page in the middle, one indicator per proxy in the status
// bar. It knows pages only as Page: each page is its own controller (ConsolePages builds
// them), so this class stays a frame. Shortcuts: Ctrl+1..9 the pages in order, Ctrl+F the
// page's filter (a child QLineEdit named "filter"), F5 the page's refresh() slot when it has
// one, Ctrl+Q quits. Geometry, splitter and last page are kept in Settings.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    MainWindow(ProxyRegistry &registry, Settings &settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    // key: stable name for settings and --page ("live", "queue"...). Pages are listed in
    // the order added.
    void addPage(const QString &key, Page *page);
    QStringList pageKeys() const { return m_keys; }
    Page *page(const QString &key) const;
    QString currentPageKey() const;
    bool showPage(const QString &key);
    // Shows the last page of the previous run (or the first page).
    void restoreState();

    ScopeSelector *scopeSelector() const { return m_scope; }
    ProxyStatusBar *proxyStatus() const { return m_status; }

    // Focuses the current page's filter; false when it has none.
    bool focusFilter();
    // Calls the current page's refresh(); false when it has none.
    bool refreshPage();

    // Shows each page and grabs the window into dir/<key>.png (the screenshot script),
    // waiting settleMs on each page for its data. False with *error on a write failure.
    bool grabPages(const QString &dir, int settleMs, QString *error);

public Q_SLOTS:
    void showAbout();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void setupShortcuts();
    void onScopeChanged(const QString &proxyId);

    ProxyRegistry &m_registry;
    Settings &m_settings;
    QListWidget *m_nav;
    QMenu *m_pagesMenu = nullptr;
    QStackedWidget *m_stack;
    ScopeSelector *m_scope;
    ProxyStatusBar *m_status;
    QStringList m_keys;
    QList<Page *> m_pages;
    bool m_pageRestored = false;
};

} // namespace greygate
