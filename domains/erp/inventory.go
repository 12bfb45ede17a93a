package erp

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// Categories of inventory items.
var categories = map[string]bool{"components": true, "peripherals": true, "networking": true, "supplies": true}

// InventoryItem is one stocked item, as returned by erp.get_inventory_item.
type InventoryItem struct {
	SKU            string  `json:"sku"`
	Name           string  `json:"name"`
	Category       string  `json:"category"`
	QuantityOnHand int     `json:"quantity_on_hand"`
	ReorderLevel   int     `json:"reorder_level"`
	UnitPrice      float64 `json:"unit_price"`
	Currency       string  `json:"currency"`
	Supplier       string  `json:"supplier"`
	Warehouse      string  `json:"warehouse"`
	// NeedsReorder is true when the quantity on hand is at or below the reorder level.
	NeedsReorder bool `json:"needs_reorder"`
}

// LowStockItem is an item at or below its reorder level; Shortfall is how far below it is (0
// when exactly at the level).
type LowStockItem struct {
	InventoryItem
	Shortfall int `json:"shortfall"`
}

// LowStock is erp.check_low_stock's result, the largest shortfall first.
type LowStock struct {
	Items []LowStockItem `json:"items"`
	Count int            `json:"count"`
}

const itemColumns = `sku, name, category, quantity_on_hand, reorder_level, (unit_price * 100)::bigint, supplier, warehouse`

func scanItem(row pgx.Row) (InventoryItem, error) {
	var it InventoryItem
	var cents int64
	err := row.Scan(&it.SKU, &it.Name, &it.Category, &it.QuantityOnHand, &it.ReorderLevel, &cents, &it.Supplier, &it.Warehouse)
	it.UnitPrice = money(cents)
	it.Currency = currency
	it.NeedsReorder = it.QuantityOnHand <= it.ReorderLevel
	return it, err
}

// getInventoryItem serves erp.get_inventory_item.
func (a *Adapter) getInventoryItem(ctx context.Context, call domains.Call) (any, error) {
	sku, err := kit.StringArg(call.Args, "sku", true)
	if err != nil {
		return nil, err
	}
	sku = strings.ToUpper(sku)
	it, err := scanItem(a.pool.QueryRow(ctx, `SELECT `+itemColumns+` FROM erp.inventory_items WHERE sku = $1`, sku))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domains.Errorf(domains.CodeNotFound, "no inventory item with SKU %q", sku)
	}
	if err != nil {
		return nil, dbError("looking up an inventory item", err)
	}
	return &it, nil
}

// checkLowStock serves erp.check_low_stock.
func (a *Adapter) checkLowStock(ctx context.Context, call domains.Call) (any, error) {
	category, err := kit.StringArg(call.Args, "category", false)
	if err != nil {
		return nil, err
	}
	category = strings.ToLower(category)
	if category != "" && !categories[category] {
		return nil, domains.Errorf(domains.CodeInvalid, "category %q is not one of components, peripherals, networking, supplies", category)
	}
	rows, err := a.pool.Query(ctx, `SELECT `+itemColumns+` FROM erp.inventory_items
		WHERE quantity_on_hand <= reorder_level AND ($1 = '' OR category = $1)
		ORDER BY reorder_level - quantity_on_hand DESC, sku`, category)
	if err != nil {
		return nil, dbError("checking stock levels", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LowStockItem, error) {
		it, err := scanItem(row)
		return LowStockItem{InventoryItem: it, Shortfall: it.ReorderLevel - it.QuantityOnHand}, err
	})
	if err != nil {
		return nil, dbError("checking stock levels", err)
	}
	if items == nil {
		items = []LowStockItem{}
	}
	return &LowStock{Items: items, Count: len(items)}, nil
}
