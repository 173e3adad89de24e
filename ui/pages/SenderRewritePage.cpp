// SPDX-License-Identifier: GPL-3.0-or-later
#include "SenderRewritePage.h"

#include "models/SenderRewriteModel.h"
#include "widgets/ProxyPicker.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

namespace greygate {

namespace {

// Addresses an admin usually wants to see, until they type their own.
const char kSamples[] = "SRS0=HHH=TT=example.org=alice@forwarder.example\n"
                        "prvs=1234abcdef=bounces@example.org\n"
                        "newsletter+promo-2024@example.com\n"
                        "bounce-12345-67@lists.example.net";

} // namespace

SenderRewritePage::SenderRewritePage(ProxyRegistry &registry, QWidget *parent)
    : Page(parent)
    , m_picker(new ProxyPicker(registry, this))
    , m_model(new SenderRewriteModel(registry, this))
    , m_view(new QTableView(this))
    , m_samples(new QPlainTextEdit(this))
    , m_results(new QTableWidget(0, 4, this))
    , m_remove(new QPushButton(tr("Remove"), this))
    , m_up(new QPushButton(tr("Up"), this))
    , m_down(new QPushButton(tr("Down"), this))
    , m_revert(new QPushButton(tr("Revert"), this))
    , m_save(new QPushButton(tr("Save"), this))
    , m_status(new QLabel(this))
{
    auto *add = new QPushButton(tr("Add rule"), this);
    auto *kinds = new QMenu(add);
    const QList<QPair<QString, QString>> offered = {
        {QStringLiteral("regex"), tr("Pattern (regular expression)")},
        {QStringLiteral("plusTag"), tr("+tag (sub-address separators)")},
        {QStringLiteral("verp"), tr("VERP numbers")},
        {QStringLiteral("batv"), tr("BATV")},
        {QStringLiteral("srs"), tr("SRS")}};
    for (const auto &offer : offered) {
        kinds->addAction(offer.second, this, [this, kind = offer.first] {
            const int row = m_model->addRule(kind);
            if (row >= 0)
                m_view->setCurrentIndex(m_model->index(row, SenderRewriteModel::Pattern));
        });
    }
    add->setMenu(kinds);
    m_save->setDefault(true);

    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                            QAbstractItemView::AnyKeyPressed);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setColumnWidth(SenderRewriteModel::Enabled, 40);
    m_view->setColumnWidth(SenderRewriteModel::Pattern, 240);

    m_samples->setPlaceholderText(tr("Sample senders, one per line"));
    m_samples->setLineWrapMode(QPlainTextEdit::NoWrap); // one address per line, as typed
    m_samples->setPlainText(QString::fromLatin1(kSamples));
    m_results->setHorizontalHeaderLabels(
        {tr("Sample"), tr("Greylisting key"), tr("Rules applied"), tr("Skipped")});
    m_results->horizontalHeader()->setStretchLastSection(true);
    m_results->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_results->verticalHeader()->hide();
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_picker);
    bar->addWidget(add);
    bar->addWidget(m_remove);
    bar->addWidget(m_up);
    bar->addWidget(m_down);
    bar->addStretch(1);
    bar->addWidget(m_revert);
    bar->addWidget(m_save);

    auto *samplesBox = new QWidget(this);
    auto *samplesLayout = new QHBoxLayout(samplesBox);
    samplesLayout->setContentsMargins(0, 0, 0, 0);
    samplesLayout->addWidget(m_samples, 1);
    samplesLayout->addWidget(m_results, 3);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_view);
    split->addWidget(samplesBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(split, 1);
    layout->addWidget(m_status);

    connect(m_picker, &ProxyPicker::proxyChanged, m_model, &SenderRewriteModel::setProxyId);
    connect(m_remove, &QPushButton::clicked, this, [this] { m_model->removeRule(currentRow()); });
    connect(m_up, &QPushButton::clicked, this, [this] {
        const int row = currentRow();
        m_model->moveRule(row, -1);
        m_view->selectRow(row - 1);
    });
    connect(m_down, &QPushButton::clicked, this, [this] {
        const int row = currentRow();
        m_model->moveRule(row, 1);
        m_view->selectRow(row + 1);
    });
    connect(m_revert, &QPushButton::clicked, m_model, &SenderRewriteModel::revert);
    connect(m_save, &QPushButton::clicked, m_model, &SenderRewriteModel::save);
    connect(m_samples, &QPlainTextEdit::textChanged, this,
            [this] { m_model->setSamples(m_samples->toPlainText().split(u'\n')); });
    connect(m_model, &SenderRewriteModel::stateChanged, this, &SenderRewritePage::updateState);
    connect(m_model, &SenderRewriteModel::resultsChanged, this, &SenderRewritePage::showResults);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &SenderRewritePage::updateState);

    m_model->setSamples(m_samples->toPlainText().split(u'\n'));
    m_model->setProxyId(m_picker->proxyId());
    updateState();
}

QIcon SenderRewritePage::icon() const
{
    return QIcon::fromTheme(QStringLiteral("mail-forward"),
                            style()->standardIcon(QStyle::SP_FileDialogDetailedView));
}

void SenderRewritePage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_picker->setScope(proxyId);
}

int SenderRewritePage::currentRow() const
{
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? current.row() : -1;
}

void SenderRewritePage::updateState()
{
    const int row = currentRow();
    m_remove->setEnabled(row >= 0);
    m_up->setEnabled(row > 0);
    m_down->setEnabled(row >= 0 && row + 1 < m_model->rowCount());
    m_revert->setEnabled(m_model->isDirty());
    m_save->setEnabled(m_model->canSave());
    QStringList lines;
    if (!m_model->loaded())
        lines << tr("Choose a connected proxy to see its sender rewriting rules.");
    else if (!m_model->active())
        lines << tr("This proxy runs with --no-strip-sender-tags: the rules are kept but not "
                    "used.");
    if (!m_model->problem().isEmpty())
        lines << tr("The proxy refuses this table: %1").arg(m_model->problem());
    if (!m_model->message().isEmpty())
        lines << m_model->message();
    if (m_model->loaded() && lines.isEmpty())
        lines << (m_model->isDirty()
                      ? tr("Edited (version %1 on the proxy): Save applies it to new decisions; "
                           "triplets already held keep their keys.")
                            .arg(m_model->version())
                      : tr("Version %1, as saved on the proxy.").arg(m_model->version()));
    m_status->setText(lines.join(u'\n'));
}

void SenderRewritePage::showResults()
{
    const QList<SenderRewriteModel::SampleResult> &results = m_model->results();
    m_results->setRowCount(int(results.size()));
    for (int i = 0; i < results.size(); ++i) {
        const SenderRewriteModel::SampleResult &r = results[i];
        const QStringList cells = {r.address, r.key,
                                   r.applied.isEmpty() ? tr("(none)") : r.applied.join(u", "),
                                   r.skipped.join(u"; ")};
        for (int c = 0; c < cells.size(); ++c) {
            auto *item = m_results->item(i, c);
            if (!item) {
                item = new QTableWidgetItem;
                m_results->setItem(i, c, item);
            }
            item->setText(cells[c]);
            item->setToolTip(cells[c]);
        }
    }
    m_results->resizeColumnToContents(0);
    m_results->resizeColumnToContents(1);
}

} // namespace greygate
